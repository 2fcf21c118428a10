from django.apps import AppConfig
from django.core import checks
from django.utils.module_loading import autodiscover_modules

from courseproject.adminsite.middleware import check_admin_middleware


class AdminSiteConfig(AppConfig):
    name = "courseproject.adminsite"
    label = "registration_admin"
    verbose_name = "Registration admin"

    def ready(self) -> None:
        # Each app's admin.py registers its sections with the site.
        autodiscover_modules("admin")
        # Django's checks of the admin's middleware, against ADMIN_MIDDLEWARE (settings silence theirs).
        checks.register(check_admin_middleware, checks.Tags.admin)
