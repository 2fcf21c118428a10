from django.urls import path

from courseproject.api import converters  # noqa: F401  (registers the <id:...> and <semester:...> path converters)
from semesters.views import SemesterViewSet

urlpatterns = [
    path("semesters", SemesterViewSet.as_view({"get": "list", "post": "create"}), name="semester-list"),
    path(
        "semesters/<semester:semester_id>",
        SemesterViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="semester-detail",
    ),
]
