"""GET /api/live, the load balancer's target health: 200 whatever the Host header, over plain HTTP,
and without a word to DynamoDB or Redis, so that an outage of either never makes ECS replace tasks."""

from __future__ import annotations

from typing import Any

import pytest
from django.conf import settings
from django.test import override_settings
from django_redis import get_redis_connection
from drf_spectacular.generators import SchemaGenerator

from courseproject.caching.connection import gate
from courseproject.dynamo.client import reset_dynamodb_client
from devstack.services import free_port

# What an application load balancer sends as Host: the task's private address.
TASK_ADDRESS = "10.0.3.17:8000"
API_HOST = "api.registration.example.edu"


def redis_calls() -> dict[str, int]:
    stats = get_redis_connection("default").info("commandstats")
    # INFO counts itself; only what the request sent matters.
    return {command: stat["calls"] for command, stat in stats.items() if command != "cmdstat_info"}


@override_settings(ALLOWED_HOSTS=[API_HOST])
def test_the_load_balancers_check_with_the_tasks_address_as_host_is_answered(anonymous):
    response = anonymous.get("/api/live", HTTP_HOST=TASK_ADDRESS)
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}
    assert response["Cache-Control"] == "no-store"


@override_settings(ALLOWED_HOSTS=[API_HOST])
def test_every_other_path_still_refuses_a_host_it_does_not_serve(anonymous):
    assert anonymous.get("/api/health", HTTP_HOST=TASK_ADDRESS).status_code == 400
    assert anonymous.get("/api/liveness", HTTP_HOST=TASK_ADDRESS).status_code == 400
    assert anonymous.get("/api/live", HTTP_HOST=API_HOST).status_code == 200


@override_settings(ALLOWED_HOSTS=[API_HOST], SECURE_SSL_REDIRECT=True)
def test_the_check_over_plain_http_is_not_redirected_to_https(anonymous):
    """Production redirects HTTP to HTTPS; the load balancer checks its targets over HTTP."""
    assert anonymous.get("/api/live", HTTP_HOST=TASK_ADDRESS).status_code == 200
    assert anonymous.get("/api/semesters", HTTP_HOST=API_HOST).status_code == 301


def test_the_check_reads_neither_dynamodb_nor_redis(anonymous, dynamodb_calls):
    before = redis_calls()
    assert anonymous.get("/api/live", HTTP_HOST=TASK_ADDRESS).status_code == 200
    assert dynamodb_calls.operations == []
    assert redis_calls() == before


class TestDependenciesDown:
    @pytest.fixture
    def dynamodb_and_redis_unreachable(self):
        closed = f"redis://127.0.0.1:{free_port()}/0"
        caches = {"default": {**settings.CACHES["default"], "LOCATION": closed}}
        with override_settings(
            DYNAMODB_ENDPOINT_URL="http://127.0.0.1:9", DYNAMODB_MAX_ATTEMPTS=1, CACHES=caches, REDIS_URL=closed
        ):
            reset_dynamodb_client()
            gate.reset()
            yield
        reset_dynamodb_client()
        gate.reset()

    def test_the_process_stays_live_while_it_is_not_ready(self, anonymous, dynamodb_and_redis_unreachable):
        # The readiness view sees the outage; the liveness check does not, by design.
        assert anonymous.get("/api/health").json() == {
            "status": "down",
            "dynamodb": "unavailable",
            "redis": "unavailable",
        }
        response = anonymous.get("/api/live", HTTP_HOST=TASK_ADDRESS)
        assert response.status_code == 200
        assert response.json() == {"status": "ok"}


def test_the_openapi_document_lists_the_check_with_its_answer():
    document: dict[str, Any] = SchemaGenerator().get_schema(request=None, public=True)
    operation = document["paths"]["/api/live"]["get"]
    assert operation["responses"]["200"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/Liveness"
    }
    assert "401" not in operation["responses"]
