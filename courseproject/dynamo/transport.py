"""A lean HTTP/1.1 transport under the shared DynamoDB client.

botocore sends every call through urllib3 and http.client: pool bookkeeping, timeout objects, header
validation, an email-parser pass over the answer's headers and a response object per layer. That
cost about 1.2 ms of CPU of the 1.7 to 3.0 ms one GetItem costs (docs/benchmarks.md). DynamoDB's
protocol needs little of it: a POST of a signed JSON body to "/", a JSON answer with a
Content-Length. `KeepAliveSession` speaks exactly that over a pool of kept-alive sockets.

botocore still builds, signs, retries and parses every call; only the bytes on the wire pass through
here, and failures are raised as the same botocore exceptions urllib3's session raises, so retries
and the busy answer behave as before. Anything else (a proxy, a client certificate, a streamed
answer, a body that is not bytes) goes to botocore's own session. DYNAMODB_LEAN_HTTP=false switches
it off.
"""

from __future__ import annotations

import contextlib
import select
import socket
import ssl
from collections import deque
from typing import Any
from urllib.parse import urlsplit

from botocore.auth import _host_from_url
from botocore.awsrequest import AWSResponse
from botocore.exceptions import (
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    ReadTimeoutError,
    SSLError,
)
from botocore.httpsession import URLLib3Session, get_cert_path

_MAX_LINE = 65536
_MAX_HEADERS = 100


class _Origin:
    """Where one endpoint URL's calls go, parsed once."""

    def __init__(self, url: str) -> None:
        parts = urlsplit(url)
        self.https = parts.scheme == "https"
        self.hostname = parts.hostname or ""
        self.port = parts.port or (443 if self.https else 80)
        self.host_header = _host_from_url(url)  # what botocore signed as the Host
        self.target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self.idle: deque[_Connection] = deque()


class _Connection:
    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self.reader = sock.makefile("rb")

    def dropped(self) -> bool:
        # An idle kept-alive socket that is readable has been closed (or sent garbage) by the server.
        poller = select.poll()
        poller.register(self.sock, select.POLLIN)
        try:
            return bool(poller.poll(0))
        except OSError:
            return True

    def close(self) -> None:
        for closable in (self.reader, self.sock):
            with contextlib.suppress(OSError):
                closable.close()


class _Body:
    """The `raw` of an AWSResponse: botocore reads it through `stream()`."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Any:
        yield self.content


class KeepAliveSession:
    """botocore's `http_session` interface (send, close) over kept-alive sockets."""

    def __init__(
        self,
        *,
        fallback: URLLib3Session,
        connect_timeout: float,
        read_timeout: float,
        max_pool_connections: int,
        tcp_keepalive: bool = True,
    ) -> None:
        self._fallback = fallback
        self._connect_timeout = connect_timeout
        self._read_timeout = read_timeout
        self._max_idle = max_pool_connections
        self._tcp_keepalive = tcp_keepalive
        self._verify = fallback._verify
        self._ssl_context: ssl.SSLContext | None = None
        self._origins: dict[str, _Origin] = {}
        # A proxy or a client certificate needs urllib3's handling of them.
        self._bypassed = bool(fallback._proxy_config._proxies) or fallback._cert_file is not None

    def send(self, request: Any) -> AWSResponse:
        body = request.body
        if self._bypassed or request.stream_output or not isinstance(body, (bytes, bytearray, type(None))):
            return self._fallback.send(request)
        origin = self._origins.get(request.url)
        if origin is None:
            origin = self._origins.setdefault(request.url, _Origin(request.url))
        message = self._request_bytes(origin, request, body or b"")
        connection = self._idle_connection(origin) or self._connect(origin, request.url)
        try:
            context = getattr(request, "context", None) or {}
            self._set_timeout(connection, context.get("read_timeout") or self._read_timeout)
            connection.sock.sendall(message)
            status, headers, content, reusable = _read_response(connection.reader)
        except TimeoutError as error:
            connection.close()
            raise ReadTimeoutError(endpoint_url=request.url, error=error) from error
        except ssl.SSLError as error:
            connection.close()
            raise SSLError(endpoint_url=request.url, error=error) from error
        except (OSError, ValueError) as error:
            connection.close()
            raise ConnectionClosedError(endpoint_url=request.url, request=request, error=error) from error
        if reusable and len(origin.idle) < self._max_idle:
            origin.idle.append(connection)
        else:
            connection.close()
        return AWSResponse(request.url, status, headers, _Body(content))

    def close(self) -> None:
        for origin in self._origins.values():
            while origin.idle:
                origin.idle.pop().close()
        self._fallback.close()

    def _idle_connection(self, origin: _Origin) -> _Connection | None:
        while True:
            try:
                connection = origin.idle.pop()  # atomic: threads never share a socket
            except IndexError:
                return None
            if not connection.dropped():
                return connection
            connection.close()

    def _connect(self, origin: _Origin, url: str) -> _Connection:
        try:
            sock = socket.create_connection((origin.hostname, origin.port), timeout=self._connect_timeout)
        except TimeoutError as error:
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except OSError as error:
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        try:
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            if self._tcp_keepalive:
                sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
            if origin.https:
                sock = self._tls_context().wrap_socket(sock, server_hostname=origin.hostname)
        except TimeoutError as error:
            sock.close()
            raise ConnectTimeoutError(endpoint_url=url, error=error) from error
        except ssl.SSLError as error:
            sock.close()
            raise SSLError(endpoint_url=url, error=error) from error
        except OSError as error:
            sock.close()
            raise EndpointConnectionError(endpoint_url=url, error=error) from error
        return _Connection(sock)

    def _tls_context(self) -> ssl.SSLContext:
        if self._ssl_context is None:
            if self._verify:
                context = ssl.create_default_context(cafile=get_cert_path(self._verify))
            else:
                context = ssl.create_default_context()
                context.check_hostname = False
                context.verify_mode = ssl.CERT_NONE
            self._ssl_context = context
        return self._ssl_context

    @staticmethod
    def _set_timeout(connection: _Connection, timeout: float) -> None:
        if connection.sock.gettimeout() != timeout:
            connection.sock.settimeout(timeout)

    @staticmethod
    def _request_bytes(origin: _Origin, request: Any, body: bytes) -> bytes:
        lines = [f"{request.method} {origin.target} HTTP/1.1"]
        named = set()
        for name, raw_value in request.headers.items():
            value = raw_value.decode("latin-1") if isinstance(raw_value, bytes) else raw_value
            if "\n" in value or "\r" in value or "\n" in name or "\r" in name:
                raise ValueError(f"the header {name!r} holds a line break")
            named.add(name.lower())
            lines.append(f"{name}: {value}")
        if "host" not in named:
            lines.append(f"Host: {origin.host_header}")
        if "content-length" not in named:
            lines.append(f"Content-Length: {len(body)}")
        return "\r\n".join(lines).encode("latin-1") + b"\r\n\r\n" + bytes(body)


def _read_response(reader: Any) -> tuple[int, dict[str, str], bytes, bool]:
    """Status, headers, body, and whether the connection can carry another request."""
    while True:
        status_line = reader.readline(_MAX_LINE)
        if not status_line:
            raise ConnectionError("the server closed the connection before answering")
        version, _, rest = status_line.partition(b" ")
        if not version.startswith(b"HTTP/"):
            raise ValueError(f"not an HTTP status line: {status_line[:80]!r}")
        status = int(rest[:3])
        headers = _read_headers(reader)
        if status >= 200:
            break  # an interim 1xx answer is skipped
    framing = headers.get("transfer-encoding", "").lower()
    connection_header = headers.get("connection", "").lower()
    reusable = (version == b"HTTP/1.1" and connection_header != "close") or connection_header == "keep-alive"
    if "chunked" in framing:
        content = _read_chunked(reader)
    elif "content-length" in headers:
        length = int(headers["content-length"])
        content = reader.read(length) if length else b""
        if len(content) != length:
            raise ConnectionError(f"the answer ended after {len(content)} of {length} bytes")
    elif status in (204, 304):
        content = b""
    else:
        content = reader.read()  # delimited by the server closing the connection
        reusable = False
    return status, headers, content, reusable


def _read_headers(reader: Any) -> dict[str, str]:
    headers: dict[str, str] = {}
    for _ in range(_MAX_HEADERS + 1):
        line = reader.readline(_MAX_LINE)
        if line in (b"\r\n", b"\n"):
            return headers
        if not line:
            raise ConnectionError("the server closed the connection inside the headers")
        name, separator, value = line.partition(b":")
        if not separator:
            raise ValueError(f"not a header line: {line[:80]!r}")
        key = name.strip().decode("latin-1").lower()
        text = value.strip().decode("latin-1")
        headers[key] = f"{headers[key]}, {text}" if key in headers else text
    raise ValueError(f"more than {_MAX_HEADERS} headers")


def _read_chunked(reader: Any) -> bytes:
    chunks = []
    while True:
        size_line = reader.readline(_MAX_LINE)
        if not size_line:
            raise ConnectionError("the server closed the connection inside a chunked answer")
        size = int(size_line.split(b";", 1)[0].strip(), 16)
        if size == 0:
            _read_headers(reader)  # trailers, then the blank line
            return b"".join(chunks)
        chunk = reader.read(size)
        if len(chunk) != size or reader.readline(_MAX_LINE) not in (b"\r\n", b"\n"):
            raise ConnectionError("a chunk of the answer was cut short")
        chunks.append(chunk)
