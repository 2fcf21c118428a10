from django.urls import include, path, register_converter
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from courseproject.health import HealthView
from courseproject.monitoring import metrics_view


class IdConverter:
    """Ids in paths: short, URL-safe, so a path can never carry an oversized DynamoDB key."""

    regex = r"[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")

urlpatterns = [
    path("api/", include("accounts.urls")),
    path("api/", include("courses.urls")),
    path("api/", include("enrollments.urls")),
    path("api/health", HealthView.as_view(), name="health"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

handler400 = "courseproject.errors.json_bad_request"
handler403 = "courseproject.errors.json_permission_denied"
handler404 = "courseproject.errors.json_not_found"
handler500 = "courseproject.errors.json_server_error"
