"""Access tokens a process verified are remembered (accounts/tokens.py), never beyond what
verification itself would accept: expiry, the signing key and the signature still decide."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.test import override_settings

from accounts import tokens
from accounts.tokens import TokenError, decode_token, issue_token


def access_token(user_id: str = "u1") -> str:
    return issue_token(user_id=user_id, role="student", token_type="access", token_version=0, sign_in_id="s1")


def test_a_remembered_token_expires_when_its_exp_says() -> None:
    token = access_token()
    assert decode_token(token, expected_type="access").user_id == "u1"
    with time_machine.travel(datetime.now(UTC) + timedelta(hours=1)), pytest.raises(TokenError) as refused:
        decode_token(token, expected_type="access")
    assert refused.value.code == "token_expired"


def test_a_remembered_token_is_refused_once_the_signing_key_changes() -> None:
    token = access_token()
    decode_token(token, expected_type="access")
    other_key = "another-signing-key-of-at-least-forty-three-characters"
    with override_settings(JWT_SIGNING_KEY=other_key), pytest.raises(TokenError) as refused:
        decode_token(token, expected_type="access")
    assert refused.value.code == "token_invalid"


def test_a_forged_signature_is_not_accepted_because_the_genuine_token_was() -> None:
    token = access_token()
    decode_token(token, expected_type="access")
    header, payload, signature = token.split(".")
    forged = f"{header}.{payload}.{signature[:-2]}{'AA' if signature[-2:] != 'AA' else 'BB'}"
    with pytest.raises(TokenError):
        decode_token(forged, expected_type="access")


def test_a_remembered_access_token_is_not_a_refresh_token() -> None:
    token = access_token()
    decode_token(token, expected_type="access")
    with pytest.raises(TokenError):
        decode_token(token, expected_type="refresh")


def test_the_memory_is_bounded(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tokens, "VERIFIED_TOKENS_MAX", 3)
    for number in range(10):
        decode_token(access_token(f"user{number}"), expected_type="access")
        assert len(tokens._verified_access_tokens) <= 3
