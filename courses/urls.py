from django.urls import path

from courseproject.api import converters  # noqa: F401  (registers the <id:...> and <semester:...> path converters)
from courses.views import CourseViewSet

urlpatterns = [
    path("courses", CourseViewSet.as_view({"get": "list", "post": "create"}), name="course-list"),
    path(
        "courses/<id:course_id>",
        CourseViewSet.as_view({"get": "retrieve", "patch": "partial_update", "delete": "destroy"}),
        name="course-detail",
    ),
]
