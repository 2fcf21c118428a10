"""The tokens in account emails' links: signed and timestamped (django.core.signing under SECRET_KEY).

A reset token also holds a digest of the password hash and token version it was made under, so it
works once: the reset changes both. Tokens are built by the worker that sends the email
(accounts/tasks.py), never passed through task arguments.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from django.core import signing
from django.utils.crypto import salted_hmac

from accounts.models import User
from courseproject.api.errors import InvalidInputError

RESET_SALT = "accounts.password_reset"
VERIFY_SALT = "accounts.verify_email"


def password_state(user: User) -> str:
    return salted_hmac(RESET_SALT, f"{user.password_hash}|{int(user.token_version)}", algorithm="sha256").hexdigest()[
        :32
    ]


def password_reset_token(user: User) -> str:
    return signing.dumps({"u": user.user_id, "s": password_state(user)}, salt=RESET_SALT)


def email_verification_token(user: User) -> str:
    return signing.dumps({"u": user.user_id, "e": user.email}, salt=VERIFY_SALT)


def link(base_url: str, token: str) -> str:
    return f"{base_url}{'&' if '?' in base_url else '?'}{urlencode({'token': token})}"


def read_link_token(token: str, *, salt: str, max_age: int, kind: str) -> dict[str, Any]:
    try:
        value = signing.loads(token, salt=salt, max_age=max_age)
    except signing.SignatureExpired:
        raise InvalidInputError("This link has expired; ask for a new one.", code=f"{kind}_expired") from None
    except signing.BadSignature:
        raise invalid_link(kind) from None
    if not isinstance(value, dict) or not isinstance(value.get("u"), str):
        raise invalid_link(kind)
    return value


def invalid_link(kind: str) -> InvalidInputError:
    return InvalidInputError("This link is not valid (it may have been used already).", code=f"{kind}_invalid")
