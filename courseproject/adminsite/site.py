"""The admin site: Django's AdminSite with DynamoDB-backed sections instead of ORM ModelAdmins."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django import forms
from django.apps import apps
from django.contrib.admin import AdminSite
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.core.exceptions import ImproperlyConfigured
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import URLPattern, re_path, reverse
from django.utils.decorators import method_decorator
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_protect
from django.views.decorators.debug import sensitive_post_parameters

WITHOUT_DATABASE = {"password_change", "password_change_done", "autocomplete", "view_on_site"}


@dataclass(frozen=True)
class Section:
    """One entry of the admin index, like a registered model: its list, its add form, its pages."""

    app_label: str
    object_name: str
    name: str
    changelist_url_name: str
    add_url_name: str | None = None
    view_only: bool = False
    urls: list[URLPattern] = field(default_factory=list)


@dataclass(frozen=True)
class ListAction:
    """An action on the selected rows of a list, offered by whichever app can perform it (the roster
    export on the course list is the enrollments app's)."""

    name: str
    label: str
    run: Callable[[HttpRequest, list[str]], HttpResponse]


class RegistrationAdminSite(AdminSite):
    site_header = "Course registration admin"
    site_title = "Course registration admin"
    index_title = "Registration data"
    index_template = "registration_admin/index.html"
    enable_nav_sidebar = True
    # "View site": the API's documentation (the API has no pages of its own).
    site_url = "/api/docs/"

    def __init__(self, name: str = "admin") -> None:
        super().__init__(name=name)
        self._sections: list[Section] = []
        self._list_actions: dict[str, list[ListAction]] = {}
        # The index's "Recent actions": set by audit/admin.py, which reads them from the audit log.
        self.recent_actions: Callable[[HttpRequest], dict[str, Any]] | None = None
        # Who may sign in and how: set by accounts/admin.py (use_sign_in), which owns the users.
        self._sign_in: Callable[[HttpRequest, Any], None] | None = None
        self._sign_out: Callable[[HttpRequest], None] | None = None

    def use_sign_in(
        self,
        *,
        form_class: type[forms.Form],
        sign_in: Callable[[HttpRequest, Any], None],
        sign_out: Callable[[HttpRequest], None],
    ) -> None:
        """The login form (taking the request and the POST data; `get_user()` after validation), what
        signing that user in means, and what ending the session means server-side."""
        self.login_form = form_class
        self._sign_in = sign_in
        self._sign_out = sign_out

    def logout(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        # Django's LogoutView signs out on POST only (a GET link must not); it then flushes the cookie.
        if request.method == "POST" and self._sign_out is not None:
            self._sign_out(request)
        return super().logout(request, extra_context)

    def register_section(self, section: Section) -> None:
        self._sections.append(section)

    def register_list_action(self, changelist_url_name: str, action: ListAction) -> None:
        self._list_actions.setdefault(changelist_url_name, []).append(action)

    def list_actions(self, changelist_url_name: str) -> list[ListAction]:
        return list(self._list_actions.get(changelist_url_name, []))

    def get_urls(self) -> list[Any]:
        # Before Django's own: they end with a catch-all pattern.
        labels = "|".join(sorted({section.app_label for section in self._sections}))
        urls = [re_path(rf"^(?P<app_label>{labels})/$", self.admin_view(self.app_index), name="app_list")]
        for section in self._sections:
            urls.extend(section.urls)
        # Django's password change, autocomplete and "view on site" need its auth and contenttypes
        # tables, which this project does not have.
        stock = [url for url in super().get_urls() if getattr(url, "name", None) not in WITHOUT_DATABASE]
        return [*urls, *stock]

    def _build_app_dict(self, request: HttpRequest, label: str | None = None) -> dict[str, dict[str, Any]]:
        """Django's shape (app label to app), built from the sections; `label` keeps one app."""
        if not self.has_permission(request):
            return {}
        app_dict: dict[str, dict[str, Any]] = {}
        for section in self._sections:
            if label is not None and section.app_label != label:
                continue
            app = app_dict.setdefault(
                section.app_label,
                {
                    "name": apps.get_app_config(section.app_label).verbose_name,
                    "app_label": section.app_label,
                    "app_url": reverse(
                        "admin:app_list", kwargs={"app_label": section.app_label}, current_app=self.name
                    ),
                    "has_module_perms": True,
                    "models": [],
                },
            )
            app["models"].append(
                {
                    "name": section.name,
                    "object_name": section.object_name,
                    "perms": {
                        "add": bool(section.add_url_name),
                        "change": not section.view_only,
                        "delete": not section.view_only,
                        "view": True,
                    },
                    "admin_url": reverse(f"admin:{section.changelist_url_name}", current_app=self.name),
                    "add_url": reverse(f"admin:{section.add_url_name}", current_app=self.name)
                    if section.add_url_name
                    else None,
                    "view_only": section.view_only,
                }
            )
        return app_dict

    def index(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        recent = self.recent_actions(request) if self.recent_actions is not None else {}
        return super().index(request, {**recent, **(extra_context or {})})

    @method_decorator(sensitive_post_parameters("password"))
    @method_decorator(csrf_protect)
    @method_decorator(never_cache)
    def login(self, request: HttpRequest, extra_context: dict[str, Any] | None = None) -> HttpResponse:
        """Django's admin login page, with the registered form (accounts/admin_sign_in.py)."""
        index_url = reverse("admin:index", current_app=self.name)
        if request.method == "GET" and self.has_permission(request):
            return HttpResponseRedirect(index_url)
        redirect_to = request.POST.get(REDIRECT_FIELD_NAME, request.GET.get(REDIRECT_FIELD_NAME, ""))
        if not url_has_allowed_host_and_scheme(
            redirect_to, allowed_hosts={request.get_host()}, require_https=request.is_secure()
        ):
            redirect_to = index_url
        if self.login_form is None or self._sign_in is None:
            raise ImproperlyConfigured("No admin sign-in is registered (accounts/admin.py registers it).")
        form = self.login_form(request, data=request.POST if request.method == "POST" else None)
        if request.method == "POST" and form.is_valid() and (user := form.get_user()) is not None:
            self._sign_in(request, user)
            return HttpResponseRedirect(redirect_to)
        context = {
            **self.each_context(request),
            "title": "Log in",
            "subtitle": None,
            "app_path": request.get_full_path(),
            "username": request.user.get_username(),
            "form": form,
            REDIRECT_FIELD_NAME: redirect_to,
            **(extra_context or {}),
        }
        request.current_app = self.name
        return TemplateResponse(request, self.login_template or "admin/login.html", context)


admin_site = RegistrationAdminSite()
