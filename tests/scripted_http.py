"""Scripted HTTP servers for the DynamoDB transport's tests: each accepted connection is answered
by a test's script, so a test can send what DynamoDB Local never does (chunks, closes, stalls, TLS)."""

from __future__ import annotations

import socket
import socketserver
import ssl
import threading
from collections.abc import Callable
from typing import Any

from botocore.awsrequest import AWSRequest
from botocore.httpsession import URLLib3Session

from courseproject.dynamo.transport import KeepAliveSession

Script = Callable[["ScriptedServer", socket.socket, Any], None]
OK = b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: 2\r\n\r\n{}"


class ScriptedServer(socketserver.ThreadingTCPServer):
    """Answers each accepted connection with a test's script; counts the connections."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, script: Script, tls: ssl.SSLContext | None = None) -> None:
        self.script = script
        self.tls = tls
        self.connections = 0
        self.requests: list[bytes] = []
        super().__init__(("127.0.0.1", 0), ScriptedHandler)

    @property
    def url(self) -> str:
        scheme = "https" if self.tls else "http"
        return f"{scheme}://localhost:{self.server_address[1]}/"


class ScriptedHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        server: ScriptedServer = self.server  # type: ignore[assignment]
        server.connections += 1
        sock = server.tls.wrap_socket(self.request, server_side=True) if server.tls else self.request
        with sock.makefile("rb") as reader:
            server.script(server, sock, reader)


def read_request(server: ScriptedServer, reader: Any) -> bool:
    """Reads one request (head and Content-Length body); False when the client has gone."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = reader.readline()
        if not line:
            return False
        head += line
    length = next(
        (int(line.split(b":")[1]) for line in head.split(b"\r\n") if line.lower().startswith(b"content-length")), 0
    )
    server.requests.append(head + reader.read(length))
    return True


def answer_each_request(answer: bytes) -> Script:
    def script(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
        while read_request(server, reader):
            sock.sendall(answer)

    return script


class ScriptedServers:
    """Starts scripted servers for one test and shuts them all down after it (the `serve` fixtures)."""

    def __init__(self) -> None:
        self.servers: list[ScriptedServer] = []

    def __call__(self, script: Script, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        server = ScriptedServer(script, tls)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        self.servers.append(server)
        return server

    def close(self) -> None:
        for server in self.servers:
            server.shutdown()
            server.server_close()


def new_session(read_timeout: float = 2.0, **urllib3_options: Any) -> KeepAliveSession:
    return KeepAliveSession(
        fallback=URLLib3Session(**urllib3_options),
        connect_timeout=1.0,
        read_timeout=read_timeout,
        max_pool_connections=10,
    )


def botocore_request(url: str, body: bytes = b'{"TableName": "t"}', **headers: str) -> Any:
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0", **headers}
    return AWSRequest(method="POST", url=url, headers=headers, data=body).prepare()
