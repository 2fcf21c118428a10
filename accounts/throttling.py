"""Throttles for the unauthenticated auth endpoints.

Rates are read from settings on each request (DRF reads its own rates once at import), so they can
be set per environment and changed in tests.
"""

from __future__ import annotations

import hashlib

from django.conf import settings
from rest_framework.throttling import SimpleRateThrottle

from accounts.selectors import normalize_email


class LoginRateThrottle(SimpleRateThrottle):
    """Against password guessing: attempts per client address and email. Keyed on both, so that a
    campus behind one NAT address is not locked out together on registration morning."""

    scope = "login"

    def get_rate(self) -> str:
        return settings.LOGIN_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        email = request.data.get("email") if isinstance(request.data, dict) else None
        email_digest = hashlib.blake2b(normalize_email(str(email or "")).encode(), digest_size=8).hexdigest()
        return self.cache_format % {"scope": self.scope, "ident": f"{self.get_ident(request)}:{email_digest}"}


class RegisterRateThrottle(SimpleRateThrottle):
    """Against mass account creation: registrations per client address."""

    scope = "register"

    def get_rate(self) -> str:
        return settings.REGISTER_THROTTLE_RATE

    def get_cache_key(self, request, view) -> str:
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}
