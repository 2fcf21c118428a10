"""The usual Accept headers skip DRF's parsing and get exactly what DRF's negotiation gives."""

from __future__ import annotations

import pytest
from django.http import Http404
from drf_spectacular.renderers import OpenApiJsonRenderer, OpenApiYamlRenderer
from rest_framework.exceptions import NotAcceptable
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

from courseproject.api.negotiation import UsualAcceptNegotiation
from courseproject.api.rendering import ORJSONRenderer
from tests.conftest import unique_semester

RENDERER_LISTS = {
    "the API's": [ORJSONRenderer()],
    "the schema's": [OpenApiYamlRenderer(), OpenApiJsonRenderer()],
}
ACCEPTS = [
    None,
    "",
    "*/*",
    "application/json",
    "application/vnd.oai.openapi",
    "application/json; indent=4",
    "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8",
    "application/*",
    "text/html",
]


def _request(accept: str | None, query: str = "") -> Request:
    extra = {} if accept is None else {"HTTP_ACCEPT": accept}
    return Request(APIRequestFactory().get(f"/api/courses{query}", **extra))


def _outcome(negotiation, request: Request, renderers, format_suffix=None):
    try:
        renderer, media_type = negotiation.select_renderer(request, renderers, format_suffix)
    except NotAcceptable:
        return "406"
    except Http404:  # a format no renderer has
        return "404"
    return type(renderer), media_type


@pytest.mark.parametrize("renderers", RENDERER_LISTS.values(), ids=RENDERER_LISTS.keys())
@pytest.mark.parametrize("accept", ACCEPTS)
@pytest.mark.parametrize("query", ["", "?format=json", "?format=yaml", "?semester_id=1"])
def test_the_same_renderer_and_media_type_as_drfs_negotiation(renderers, accept, query):
    expected = _outcome(DefaultContentNegotiation(), _request(accept, query), renderers)
    assert _outcome(UsualAcceptNegotiation(), _request(accept, query), renderers) == expected


@pytest.mark.parametrize("format_suffix", ["json", "yaml"])
def test_a_format_suffix_goes_through_drfs_negotiation(format_suffix):
    renderers = RENDERER_LISTS["the schema's"]
    expected = _outcome(DefaultContentNegotiation(), _request("*/*"), renderers, format_suffix)
    assert _outcome(UsualAcceptNegotiation(), _request("*/*"), renderers, format_suffix) == expected


def test_a_course_list_refuses_an_accept_header_without_json_with_a_json_406(student, make_course):
    semester_id = unique_semester()
    make_course(semester_id=semester_id)
    response = student.client.get(f"/api/courses?semester_id={semester_id}", HTTP_ACCEPT="text/html")
    assert response.status_code == 406
    assert response.json()["code"] == "not_acceptable"
