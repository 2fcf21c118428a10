"""GET /api/health, the OpenAPI document and Swagger UI."""

from __future__ import annotations

import io

from django.core.management import call_command


def test_health_is_ok_with_both_dependencies_up(anonymous):
    response = anonymous.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "dynamodb": "ok", "redis": "ok"}


def test_the_openapi_schema_generates_without_warnings_and_validates():
    output = io.StringIO()
    call_command("spectacular", "--fail-on-warn", "--validate", stdout=output)
    schema = output.getvalue()
    for path in ("/api/auth/login", "/api/courses/{course_id}/enrollments", "/api/enrollments/me", "/api/health"):
        assert f"{path}:" in schema


def test_the_schema_and_swagger_ui_are_served(anonymous):
    assert anonymous.get("/api/schema/").status_code == 200
    docs = anonymous.get("/api/docs/")
    assert docs.status_code == 200
    assert b"swagger-ui" in docs.content
    # The UI's assets are served locally (no CDN), so the page works on a closed network.
    assert anonymous.get("/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js").status_code == 200
