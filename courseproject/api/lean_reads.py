"""A lean dispatch for the hottest GETs: a semester's course list, a course, and a student's own
enrollments, three in four requests of the registration-week mix.

DRF's dispatch was a tenth of a cached course list's CPU (docs/benchmarks.md): a Request that
wraps Django's, content negotiation, versioning, and the bookkeeping around them, on every request.
A plain GET of these views needs none of it but three checks, which the lean path runs itself, in
DRF's order and with the view's own classes:

- authentication: the view's authenticators, as DRF's Request runs them (the first that answers
  wins; none leaves the request anonymous), so the token-version check is the same code;
- permissions: the view's own, with DRF's rule for a refusal (401 when nobody authenticated, else 403);
- throttles: the view's own, through DRF's check_throttles.

Any error, from those checks or the view, is answered by DRF's own handle_exception and
finalize_response on a DRF Request built then: the error format is DRF's, byte for byte. A
request the lean path is not sure of goes through DRF whole: any method but GET, an Accept header
other than none, `*/*` or the view's media type, a `?format=` override, a versioned view, a test's
request signed in by DRF's APIClient.force_authenticate, and any request whose view's
`lean_<action>` method returns None (a course list whose query is not the usual one, for instance).
The OpenAPI document is built from the views, not from this path, and is unchanged.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.http import HttpRequest, HttpResponse
from rest_framework.exceptions import NotAuthenticated, PermissionDenied
from rest_framework.settings import api_settings

from courseproject.api.negotiation import is_usual_accept

# What a view's lean_<action> returns: the answer, to compute once the checks have passed.
LeanAnswer = Callable[[], HttpResponse]


def _forced_authentication(request: HttpRequest) -> bool:
    """A request DRF's test client authenticated with force_authenticate, which only DRF's Request honours."""
    forced = (getattr(request, "_force_auth_user", None), getattr(request, "_force_auth_token", None))
    return forced != (None, None)


def _names_format_override(request: HttpRequest) -> bool:
    """Whether the query string names DRF's `?format=` override. Read from the raw string unless it
    is percent-encoded, so that the usual request builds no QueryDict (5 us of a cached read)."""
    override, query = api_settings.URL_FORMAT_OVERRIDE, request.META.get("QUERY_STRING", "")
    if not override or not query:
        return False
    if "%" in query:  # only an escape can spell the name differently in the raw string
        return override in request.GET
    return any(part.partition("=")[0] == override for part in query.split("&"))


class LeanReadsMixin:
    """For a DRF ViewSet: GETs of an action with a `lean_<action>(request, **url_kwargs)` method take
    the lean path. That method decides from the request alone (it runs before authentication) and
    returns the answer to compute after the checks, or None to leave the request to DRF."""

    # False sends every request through DRF's dispatch (as_view(..., lean_reads=False) for one route).
    lean_reads: bool = True

    def dispatch(self, request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        answer = self._lean_answer(request, kwargs)
        if answer is None:
            return super().dispatch(request, *args, **kwargs)
        self.args, self.kwargs = args, kwargs
        self.request = request
        self.format_kwarg = None
        try:
            self._authenticate(request)
            self._check_permissions(request)
            self.check_throttles(request)
            response = answer()
        except Exception as error:
            return self._answer_error(request, error, args, kwargs)
        self.headers = self.default_response_headers
        return self.finalize_response(request, response, *args, **kwargs)

    def _lean_answer(self, request: HttpRequest, url_kwargs: dict[str, Any]) -> LeanAnswer | None:
        if not self.lean_reads or request.method != "GET" or self.versioning_class is not None:
            return None
        self.action = self.action_map.get("get")
        lean_handler = getattr(self, f"lean_{self.action}", None)
        if lean_handler is None or _names_format_override(request) or _forced_authentication(request):
            return None
        if not is_usual_accept(request.META.get("HTTP_ACCEPT"), self.get_renderers()[0]):
            return None
        return lean_handler(request, **url_kwargs)

    def _authenticate(self, request: HttpRequest) -> None:
        """As DRF's Request._authenticate, on Django's request (whose user and auth DRF sets too)."""
        unauthenticated_user = api_settings.UNAUTHENTICATED_USER
        request.user = unauthenticated_user() if unauthenticated_user else None
        request.auth = api_settings.UNAUTHENTICATED_TOKEN() if api_settings.UNAUTHENTICATED_TOKEN else None
        authenticators = self.get_authenticators()
        # DRF's permission_denied answers 401 only when there were authenticators and none answered.
        self._lean_anonymous = bool(authenticators)
        for authenticator in authenticators:
            user_and_auth = authenticator.authenticate(request)
            if user_and_auth is not None:
                self._lean_anonymous = False
                request.user, request.auth = user_and_auth
                return

    def _check_permissions(self, request: HttpRequest) -> None:
        """As DRF's check_permissions and permission_denied."""
        for permission in self.get_permissions():
            if not permission.has_permission(request, self):
                if self._lean_anonymous:
                    raise NotAuthenticated()
                raise PermissionDenied(getattr(permission, "message", None), getattr(permission, "code", None))

    def _answer_error(self, request: HttpRequest, error: Exception, args: tuple, kwargs: dict) -> HttpResponse:
        """DRF's answer to the error, on a DRF Request that knows what the lean path found."""
        drf_request = self.initialize_request(request, *args, **kwargs)
        drf_request.user = getattr(request, "user", None)
        drf_request.auth = getattr(request, "auth", None)
        renderer = self.get_renderers()[0]
        drf_request.accepted_renderer, drf_request.accepted_media_type = renderer, renderer.media_type
        self.request = drf_request
        self.headers = self.default_response_headers
        response = self.handle_exception(error)
        return self.finalize_response(drf_request, response, *args, **kwargs)
