"""HTTP caching for clients: a cached read carries an `ETag`, and a client that sends it back in
`If-None-Match` gets 304 Not Modified without the body.

The tag is a digest of the exact body bytes, so anything that changes the body (a seat taken, a
course edited) changes the tag, and every worker gives the same bytes the same tag with nothing
stored. Who may read the answer is settled before
the view runs (DRF's authentication, permissions, throttles) or, for a token check no cached read
took, before the answer leaves (accounts/authentication.py `TokenCheckMiddleware`, which replaces a
304 as it would a 200): a revoked token gets its 401, never a 304. Errors never come through here,
so they carry no tag.

Cache-Control (docs/security.md): the catalog (courses, semesters), the same for every signed-in
user, is `private, no-cache`: a browser may keep it but asks again every time, with the tag, so the
token check still runs. Personal answers (profile, enrollments, rosters) stay `no-store`, as every
other API answer (courseproject/api/no_store.py); a client that keeps the tag itself still saves
the body.
"""

from __future__ import annotations

from hashlib import sha256

from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.utils.http import parse_etags

from courseproject.api.rendering import JsonBytesResponse

CATALOG_CACHE_CONTROL = "private, no-cache"
PERSONAL_CACHE_CONTROL = "no-store"
_CONDITIONAL_METHODS = frozenset({"GET", "HEAD"})


# The tags of bodies served lately. A read served from this process's local copy answers with the
# same bytes object every time, and a bytes object keeps its hash once computed, so its tag is a
# dict lookup instead of a digest (6 to 8 us for a 9 KB page). Bounded by the bytes it holds.
_etags: dict[bytes, str] = {}
_etag_bytes = 0
ETAG_MEMO_MAX_BYTES = 4 * 1024 * 1024


def etag_of(body: bytes) -> str:
    """A strong tag of the exact bytes: 128 bits of SHA-256, quoted. SHA-256 rather than BLAKE2b for
    speed: OpenSSL's runs on the CPU's SHA instructions (a 9 KB page: 8 us, BLAKE2b 15 us, on 2 cores)."""
    global _etag_bytes
    etag = _etags.get(body)
    if etag is None:
        etag = f'"{sha256(body).hexdigest()[:32]}"'
        if _etag_bytes + len(body) > ETAG_MEMO_MAX_BYTES:
            _etags.clear()  # threads racing here at worst compute a tag again or miscount a little
            _etag_bytes = 0
        _etags[body] = etag
        _etag_bytes += len(body)
    return etag


def none_match(if_none_match: str, etag: str) -> bool:
    """Whether If-None-Match names the representation (RFC 9110 13.1.2): `*`, or a listed tag equal
    to ours (which is strong) under weak comparison, W/ ignored."""
    tags = parse_etags(if_none_match)
    return tags == ["*"] or any(tag.removeprefix("W/") == etag for tag in tags)


def revalidatable_json(request: HttpRequest, body: bytes, *, personal: bool) -> HttpResponse:
    """A cached read's JSON with its tag, or 304 when the client already holds these bytes."""
    etag = etag_of(body)
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")  # request.headers would copy every header first
    if request.method in _CONDITIONAL_METHODS and if_none_match and none_match(if_none_match, etag):
        response = HttpResponseNotModified()
        # A 304 may only carry the length the 200 would have (RFC 9110 8.6); CommonMiddleware would add 0.
        response["Content-Length"] = str(len(body))
    else:
        response = JsonBytesResponse(body)
    response["ETag"] = etag
    response["Cache-Control"] = PERSONAL_CACHE_CONTROL if personal else CATALOG_CACHE_CONTROL
    return response
