"""Admin addresses: declaring a page of the site (admin_path) and naming one (admin_url)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpResponse, QueryDict
from django.urls import path, reverse

from courseproject.adminsite.site import admin_site
from courseproject.api import converters  # noqa: F401  (registers <id:...>, which admin URLs use)


def admin_url(name: str, *args: Any, query: dict[str, Any] | None = None) -> str:
    """The address of an admin page by its URL name, with a query string of the non-empty values."""
    url = reverse(f"admin:{name}", args=args, current_app=admin_site.name)
    if query:
        params = QueryDict(mutable=True)
        params.update({key: value for key, value in query.items() if value not in (None, "")})
        url = f"{url}?{params.urlencode()}" if params else url
    return url


def admin_path(route: str, view: Callable[..., HttpResponse], name: str) -> Any:
    """A URL of the admin site: signed-in admins only, CSRF-protected, never cached."""
    return path(route, admin_site.admin_view(view), name=name)
