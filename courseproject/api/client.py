"""Who is on the other end of a request: the client address, as throttles and logs see it."""

from __future__ import annotations

from django.http import HttpRequest
from rest_framework.throttling import BaseThrottle

_ident = BaseThrottle()


def client_address(request: HttpRequest) -> str:
    """REMOTE_ADDR, or the entry NUM_PROXIES from the end of X-Forwarded-For behind load balancers
    (DRF's rule, so audit records, request logs and throttles name the same address)."""
    return _ident.get_ident(request)
