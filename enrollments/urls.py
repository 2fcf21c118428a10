from django.urls import path

from courseproject.api import converters  # noqa: F401  (registers the <id:...> and <semester:...> path converters)
from enrollments.views import CourseCompletionsView, CourseRosterView, EnrollmentViewSet

urlpatterns = [
    path("courses/<id:course_id>/enrollments", CourseRosterView.as_view(), name="course-roster"),
    path("courses/<id:course_id>/completions", CourseCompletionsView.as_view(), name="course-completions"),
    path("enrollments", EnrollmentViewSet.as_view({"post": "create"}), name="enrollment-list"),
    path("enrollments/me", EnrollmentViewSet.as_view({"get": "me"}), name="enrollment-me"),
    path(
        "enrollments/<id:course_id>",
        EnrollmentViewSet.as_view({"get": "retrieve", "delete": "destroy"}),
        name="enrollment-detail",
    ),
]
