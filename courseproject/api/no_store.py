"""API answers are never kept by browsers or proxies: they hold personal data (profiles, enrollments,
rosters) or tokens.

Every response under /api/ gets `Cache-Control: no-store`, errors included, unless its view chose a
Cache-Control of its own; one rule, so that no new endpoint can forget it. The one choice made is
the public catalog's `private, no-cache`, with an ETag to revalidate (courseproject/api/conditional.py).
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

API_PREFIX = "/api/"


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.path.startswith(API_PREFIX) and not response.has_header("Cache-Control"):
            response["Cache-Control"] = "no-store"
        return response
