"""Content negotiation that answers the usual Accept headers without parsing them.

Nearly every client sends no Accept header, `*/*` or `application/json`; for those DRF's negotiation
always picks the view's first renderer, after parsing the header into media types and ranking them,
on every request (the largest single piece of DRF's dispatch of a cached list; docs/benchmarks.md).
Any other header, or a `format` override, goes through DRF's negotiation unchanged, 406 included.
"""

from __future__ import annotations

from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.renderers import BaseRenderer
from rest_framework.request import Request
from rest_framework.settings import api_settings

# An empty header is not "anything": DRF finds no media type in it and answers 406.
_ANY = frozenset({None, "*/*"})


def is_usual_accept(accept: str | None, renderer: BaseRenderer) -> bool:
    """Whether DRF's negotiation would pick this renderer, the view's first, for this Accept header
    without anything else to weigh (no format override)."""
    return accept in _ANY or accept == renderer.media_type


class UsualAcceptNegotiation(DefaultContentNegotiation):
    def select_renderer(
        self, request: Request, renderers: list[BaseRenderer], format_suffix: str | None = None
    ) -> tuple[BaseRenderer, str]:
        first = renderers[0] if renderers else None
        if (
            first is not None
            and format_suffix is None
            and is_usual_accept(request.META.get("HTTP_ACCEPT"), first)
            and api_settings.URL_FORMAT_OVERRIDE not in request.query_params
        ):
            return first, first.media_type
        return super().select_renderer(request, renderers, format_suffix)
