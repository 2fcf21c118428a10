"""Admin pages answer 503 with a page of their own when DynamoDB is unreachable."""

from __future__ import annotations

import logging
from typing import Any

from django.http import HttpRequest
from django.shortcuts import render

from courseproject.api.outages import is_dynamodb_outage

logger = logging.getLogger(__name__)


class AdminOutageMiddleware:
    """An admin page that finds DynamoDB unreachable answers 503 with a page saying so, as the API
    answers 503 JSON (courseproject.api.errors), instead of a server error."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> Any:
        return self.get_response(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> Any:
        if not request.path.startswith("/admin/") or not is_dynamodb_outage(exception):
            return None
        logger.warning("Admin page %s: DynamoDB unavailable (%s)", request.path, exception)
        # A standalone page: the admin's base template would ask DynamoDB for the signed-in user.
        return render(request, "registration_admin/unavailable.html", status=503)
