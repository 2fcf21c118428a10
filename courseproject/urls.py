from importlib import import_module

from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from courseproject.adminsite.site import admin_site
from courseproject.observability.health import HealthView
from courseproject.observability.liveness import LivenessView
from courseproject.observability.prometheus import metrics_view

# The apps' URLs, named as include() names them (the core imports no app); no two apps' paths overlap.
# The hottest first: Django builds a list of every pattern it tried before the match (for the debug
# 404 page), and of every pattern of each include that did not match. With four includes, and
# /api/courses behind the accounts' and semesters' patterns, that was a tenth of a cached read's CPU.
API_URLCONFS = ("courses.urls", "enrollments.urls", "accounts.urls", "semesters.urls")

api_urlpatterns = [
    *(pattern for urlconf in API_URLCONFS for pattern in import_module(urlconf).urlpatterns),
    path("health", HealthView.as_view(), name="health"),
    # Answered by LivenessMiddleware before the URL is resolved; routed for the OpenAPI document.
    path("live", LivenessView.as_view(), name="live"),
    path("schema/", SpectacularAPIView.as_view(), name="schema"),
    path("docs/", SpectacularSwaggerView.as_view(url_name="schema"), name="swagger-ui"),
]

urlpatterns = [
    path("api/", include(api_urlpatterns)),
    path("metrics", metrics_view, name="metrics"),
    path("admin/", admin_site.urls),
    path("admin", RedirectView.as_view(url="/admin/")),
]

handler400 = "courseproject.api.errors.json_bad_request"
handler403 = "courseproject.api.errors.json_permission_denied"
handler404 = "courseproject.api.errors.json_not_found"
handler500 = "courseproject.api.errors.json_server_error"
