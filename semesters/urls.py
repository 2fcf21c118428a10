from django.urls import path

from semesters.views import SemesterViewSet

urlpatterns = [
    path("semesters", SemesterViewSet.as_view({"get": "list", "post": "create"}), name="semester-list"),
    path(
        "semesters/<semester:semester_id>",
        SemesterViewSet.as_view({"get": "retrieve", "patch": "partial_update"}),
        name="semester-detail",
    ),
]
