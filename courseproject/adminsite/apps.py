from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class AdminSiteConfig(AppConfig):
    name = "courseproject.adminsite"
    label = "registration_admin"
    verbose_name = "Registration admin"

    def ready(self) -> None:
        # Each app's admin.py registers its sections with the site.
        autodiscover_modules("admin")
