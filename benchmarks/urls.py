"""The benchmark's URLs: the product's, the "before" baseline under /baseline/api/, and a bare
Django endpoint that shows the framework's ceiling on the same server."""

from django.http import HttpRequest, JsonResponse
from django.urls import include, path

from benchmarks.baseline import accounts, courses, enrollments
from courseproject.urls import handler400, handler403, handler404, handler500
from courseproject.urls import urlpatterns as product_urlpatterns

__all__ = ["handler400", "handler403", "handler404", "handler500", "urlpatterns"]


def bare_json(request: HttpRequest) -> JsonResponse:
    return JsonResponse({"status": "ok"})


# The same paths as the product's API (the `id` converter is registered by the apps' urls).
baseline_urlpatterns = [
    path("courses", courses.CourseListView.as_view()),
    path("courses/<id:course_id>", courses.CourseDetailView.as_view()),
    path("courses/<id:course_id>/enrollments", enrollments.RosterView.as_view()),
    path("enrollments", enrollments.EnrollView.as_view()),
    path("enrollments/me", enrollments.MyEnrollmentsView.as_view()),
    path("enrollments/<id:course_id>", enrollments.DropView.as_view()),
    path("auth/me", accounts.MeView.as_view()),
]

urlpatterns = [
    *product_urlpatterns,
    path("baseline/api/", include(baseline_urlpatterns)),
    path("bench/bare", bare_json, name="bench-bare"),
]
