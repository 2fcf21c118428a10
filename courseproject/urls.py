from importlib import import_module

from django.urls import include, path
from django.views.generic import RedirectView
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from courseproject.adminsite.site import admin_site
from courseproject.observability.health import HealthView
from courseproject.observability.liveness import LivenessView
from courseproject.observability.prometheus import metrics_view

# The apps' URLs, named as include() names them (the core imports no app).
API_URLCONFS = ("accounts.urls", "semesters.urls", "courses.urls", "enrollments.urls")

# One list under one "api/": Django records every pattern an include tried when none of it matches
# (for the debug 404 page), which cost a cached read a tenth of its CPU while /api/courses went
# through the accounts' and semesters' includes first.
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
