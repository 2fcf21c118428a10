"""SigV4 for DynamoDB's JSON calls, as botocore's SigV4Auth signs them (lean_calls.py uses it; the
tests compare its header with botocore's for the same request). DynamoDB's requests are all alike:
a POST of JSON to "/", with the same four headers signed (five with a session token)."""

from __future__ import annotations

import hashlib
import hmac
import threading

CONTENT_TYPE = "application/x-amz-json-1.0"
_SIGNED_HEADERS = "content-type;host;x-amz-date;x-amz-target"
_SIGNED_HEADERS_WITH_TOKEN = "content-type;host;x-amz-date;x-amz-security-token;x-amz-target"


def sigv4_authorization(
    *,
    access_key: str,
    signing_key: bytes,
    scope: str,
    amz_date: str,
    host: str,
    target: str,
    body: bytes,
    token: str | None,
) -> str:
    """The Authorization header of a DynamoDB POST, as botocore's SigV4Auth builds it."""
    token_header = f"x-amz-security-token:{token}\n" if token else ""
    signed = _SIGNED_HEADERS_WITH_TOKEN if token else _SIGNED_HEADERS
    canonical_request = (
        "POST\n/\n\n"
        f"content-type:{CONTENT_TYPE}\nhost:{host}\nx-amz-date:{amz_date}\n{token_header}x-amz-target:{target}\n\n"
        f"{signed}\n{hashlib.sha256(body).hexdigest()}"
    )
    string_to_sign = f"AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{hashlib.sha256(canonical_request.encode()).hexdigest()}"
    signature = hmac.new(signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    return f"AWS4-HMAC-SHA256 Credential={access_key}/{scope}, SignedHeaders={signed}, Signature={signature}"


def sigv4_signing_key(secret_key: str, date: str, region: str, service: str) -> bytes:
    key = hmac.new(f"AWS4{secret_key}".encode(), date.encode(), hashlib.sha256).digest()
    for part in (region, service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


class SigningKeys:
    """The day's signing key per secret, region and service: four HMACs saved on every call."""

    def __init__(self) -> None:
        self._keys: dict[tuple[str, str, str, str], bytes] = {}
        self._lock = threading.Lock()

    def key(self, secret_key: str, date: str, region: str, service: str) -> bytes:
        cache_key = (secret_key, date, region, service)
        signing_key = self._keys.get(cache_key)
        if signing_key is None:
            signing_key = sigv4_signing_key(secret_key, date, region, service)
            with self._lock:
                if len(self._keys) > 16:  # a key a day, per secret: old ones are of no use
                    self._keys.clear()
                self._keys[cache_key] = signing_key
        return signing_key
