"""The admin's middleware chain, run for the admin's pages only.

Sessions, CSRF, the admin's sign-in, the campus clock, the outage page and messages serve the
cookie-authenticated admin and nothing else: the session and CSRF cookies are scoped to /admin/, so
no other path ever receives them; API views authenticate bearer tokens (DRF sets `request.user` from
its own authenticators) and are CSRF-exempt; the Swagger page reads no session. For every API
request the chain cost six middleware layers and their hooks for nothing (issue 15), so
`AdminOnlyMiddleware` builds it once, as Django's handler would from settings.ADMIN_MIDDLEWARE, and
hands it only requests under /admin/. Django's own checks look for these classes in MIDDLEWARE;
`check_admin_middleware` looks for them here instead (the silenced ids are in settings).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured, MiddlewareNotUsed
from django.core.handlers.exception import convert_exception_to_response
from django.http import HttpRequest, HttpResponse
from django.utils.module_loading import import_string

ADMIN_PREFIX = "/admin/"
MIDDLEWARE_PATH = "courseproject.adminsite.middleware.AdminOnlyMiddleware"
# What Django's admin and deploy checks require in MIDDLEWARE (admin.E408-E410, security.W003).
REQUIRED_ADMIN_MIDDLEWARE = (
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
)


def is_admin_path(request: HttpRequest) -> bool:
    return request.path_info.startswith(ADMIN_PREFIX)


class AdminOnlyMiddleware:
    """settings.ADMIN_MIDDLEWARE, in its order, around the rest of the chain for /admin/ requests;
    other requests pass straight on. The handler calls this class's view and exception hooks, which
    run the admin chain's own, in the order the handler would, for admin pages."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response
        self.view_hooks: list[Callable[..., HttpResponse | None]] = []
        self.exception_hooks: list[Callable[..., HttpResponse | None]] = []
        handler = get_response
        for middleware_path in reversed(settings.ADMIN_MIDDLEWARE):
            try:
                middleware = import_string(middleware_path)(handler)
            except MiddlewareNotUsed:
                continue
            if hasattr(middleware, "process_view"):
                self.view_hooks.insert(0, middleware.process_view)
            if hasattr(middleware, "process_template_response"):
                # None of the admin's has one; fail at start-up rather than skip it silently.
                raise ImproperlyConfigured(f"{middleware_path}: process_template_response is not supported here.")
            if hasattr(middleware, "process_exception"):
                self.exception_hooks.append(middleware.process_exception)
            handler = convert_exception_to_response(middleware)
        self.admin_chain = handler

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if is_admin_path(request):
            return self.admin_chain(request)
        return self.get_response(request)

    def process_view(
        self, request: HttpRequest, view: Callable[..., Any], args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> HttpResponse | None:
        if not is_admin_path(request):
            return None
        for hook in self.view_hooks:
            response = hook(request, view, args, kwargs)
            if response is not None:
                return response
        return None

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not is_admin_path(request):
            return None
        for hook in self.exception_hooks:
            response = hook(request, exception)
            if response is not None:
                return response
        return None


def check_admin_middleware(**kwargs: Any) -> list[checks.CheckMessage]:
    """Django's admin.E408-E410 and security.W003, against the admin's chain."""
    if MIDDLEWARE_PATH not in settings.MIDDLEWARE:
        return [checks.Error(f"{MIDDLEWARE_PATH} must be in MIDDLEWARE.", id="registration_admin.E001")]
    return [
        checks.Error(
            f"{required} (or a subclass) must be in ADMIN_MIDDLEWARE for the admin to work.",
            id="registration_admin.E002",
        )
        for required in REQUIRED_ADMIN_MIDDLEWARE
        if not any(issubclass(import_string(path), import_string(required)) for path in settings.ADMIN_MIDDLEWARE)
    ]
