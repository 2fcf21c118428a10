from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from courseproject.adminsite.site import admin_site
from courseproject.api import converters  # noqa: F401  (registers the <id:...> and <semester:...> path converters)
from courseproject.observability.health import HealthView
from courseproject.observability.liveness import LivenessView
from courseproject.observability.prometheus import metrics_view

urlpatterns = [
    path("api/", include("accounts.urls")),
    path("api/", include("semesters.urls")),
    path("api/", include("courses.urls")),
    path("api/", include("enrollments.urls")),
    path("api/health", HealthView.as_view(), name="health"),
    # Answered by LivenessMiddleware before the URL is resolved; routed for the OpenAPI document.
    path("api/live", LivenessView.as_view(), name="live"),
    path("metrics", metrics_view, name="metrics"),
    path("api/schema/", SpectacularAPIView.as_view(), name="schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
    path("admin/", admin_site.urls),
    path("admin", RedirectView.as_view(url="/admin/")),
]

handler400 = "courseproject.api.errors.json_bad_request"
handler403 = "courseproject.api.errors.json_permission_denied"
handler404 = "courseproject.api.errors.json_not_found"
handler500 = "courseproject.api.errors.json_server_error"
