"""The lean HTTP transport under the shared DynamoDB client: against DynamoDB Local, and against
scripted HTTP servers for what DynamoDB Local never does (chunks, closes, stalls, TLS)."""

from __future__ import annotations

import socket
import socketserver
import ssl
import subprocess
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from botocore.awsrequest import AWSRequest
from botocore.exceptions import ConnectionClosedError, EndpointConnectionError, ReadTimeoutError, SSLError
from botocore.httpsession import URLLib3Session

from courseproject.dynamo.client import dynamodb_client, reset_dynamodb_client
from courseproject.dynamo.transport import KeepAliveSession
from courses.models import Course

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


@pytest.fixture
def serve() -> Iterator[Callable[..., ScriptedServer]]:
    servers: list[ScriptedServer] = []

    def start(script: Script, tls: ssl.SSLContext | None = None) -> ScriptedServer:
        server = ScriptedServer(script, tls)
        threading.Thread(target=server.serve_forever, daemon=True).start()
        servers.append(server)
        return server

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def new_session(read_timeout: float = 2.0, **urllib3_options: Any) -> KeepAliveSession:
    return KeepAliveSession(
        fallback=URLLib3Session(**urllib3_options),
        connect_timeout=1.0,
        read_timeout=read_timeout,
        max_pool_connections=10,
    )


def signed_like_botocore(url: str, body: bytes = b'{"TableName": "t"}', **headers: str) -> Any:
    headers = {"X-Amz-Target": "DynamoDB_20120810.GetItem", "Content-Type": "application/x-amz-json-1.0", **headers}
    return AWSRequest(method="POST", url=url, headers=headers, data=body).prepare()


class TestAgainstDynamoDBLocal:
    def test_the_shared_client_keeps_one_connection_alive_across_calls(self, make_course):
        course = make_course()
        session = dynamodb_client()._endpoint.http_session
        assert isinstance(session, KeepAliveSession)
        for _ in range(5):
            Course.get(course.course_id)
        (origin,) = session._origins.values()
        assert len(origin.idle) == 1

    def test_answers_are_the_same_through_botocore_s_own_session(self, make_course, settings):
        course = make_course()
        key = {"course_id": {"S": course.course_id}}

        def get_item() -> dict:
            answer = dynamodb_client().get_item(TableName=Course.Meta.table_name, Key=key, ConsistentRead=True)
            answer.pop("ResponseMetadata")
            return answer

        lean = get_item()
        settings.DYNAMODB_LEAN_HTTP = False
        reset_dynamodb_client()
        try:
            assert isinstance(dynamodb_client()._endpoint.http_session, URLLib3Session)
            assert get_item() == lean
            assert lean["Item"]["course_id"] == {"S": course.course_id}
        finally:
            reset_dynamodb_client()

    def test_threads_share_the_pool_without_sharing_a_socket(self, make_course):
        course = make_course()
        failures: list[BaseException] = []

        def read_many() -> None:
            try:
                for _ in range(30):
                    assert Course.get(course.course_id).course_id == course.course_id
            except BaseException as error:  # reported by the main thread
                failures.append(error)

        threads = [threading.Thread(target=read_many) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert failures == []
        (origin,) = dynamodb_client()._endpoint.http_session._origins.values()
        assert 1 <= len(origin.idle) <= 8


class TestAnswers:
    def test_a_chunked_answer_is_joined(self, serve):
        chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n5\r\n: 1}\n\r\n0\r\n\r\n'
        server = serve(answer_each_request(chunked))
        session = new_session()
        for _ in range(2):
            response = session.send(signed_like_botocore(server.url))
            assert (response.status_code, response.content) == (200, b'{"a": 1}\n')
        assert server.connections == 1

    def test_an_interim_100_answer_is_skipped_and_headers_are_case_insensitive(self, serve):
        answer = (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            + b"HTTP/1.1 400 Bad Request\r\nX-Amzn-RequestId: r1\r\nContent-Length: 3\r\n\r\nbad"
        )
        server = serve(answer_each_request(answer))
        response = new_session().send(signed_like_botocore(server.url))
        assert (response.status_code, response.content) == (400, b"bad")
        assert response.headers["x-amzn-requestid"] == "r1"

    def test_the_request_carries_the_signed_host_and_its_length(self, serve):
        server = serve(answer_each_request(OK))
        new_session().send(signed_like_botocore(server.url, body=b"12345"))
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST / HTTP/1.1"
        assert f"Host: localhost:{server.server_address[1]}".encode() in lines
        assert b"Content-Length: 5" in lines
        assert body == b"12345"

    def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(self, serve):
        server = serve(answer_each_request(OK))
        with pytest.raises(ValueError, match="line break"):
            new_session().send(signed_like_botocore(server.url, **{"X-Evil": "a\r\nX-Injected: 1"}))
        assert server.connections == 0

    def test_an_answer_delimited_by_close_is_read_and_its_connection_not_reused(self, serve):
        def close_after_answer(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}")

        server = serve(close_after_answer)
        session = new_session()
        assert session.send(signed_like_botocore(server.url)).content == b"{}"
        assert session.send(signed_like_botocore(server.url)).content == b"{}"
        assert server.connections == 2


class TestFailures:
    def test_an_idle_connection_the_server_closed_is_replaced(self, serve):
        closed = threading.Semaphore(0)

        def one_answer_then_close(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            sock.sendall(OK)  # kept alive by its headers, then closed while idle
            sock.shutdown(socket.SHUT_RDWR)
            closed.release()

        server = serve(one_answer_then_close)
        session = new_session()
        for _ in range(3):
            assert session.send(signed_like_botocore(server.url)).status_code == 200
            assert closed.acquire(timeout=5)
        assert server.connections == 3

    def test_an_answer_cut_short_is_a_closed_connection_botocore_retries(self, serve):
        def cut_short(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')

        server = serve(cut_short)
        with pytest.raises(ConnectionClosedError):
            new_session().send(signed_like_botocore(server.url))

    def test_a_server_that_stalls_is_a_read_timeout(self, serve):
        release = threading.Event()

        def stall(server: ScriptedServer, _: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            release.wait(5)

        server = serve(stall)
        try:
            with pytest.raises(ReadTimeoutError):
                new_session(read_timeout=0.2).send(signed_like_botocore(server.url))
        finally:
            release.set()

    def test_nothing_listening_is_an_endpoint_connection_error(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(EndpointConnectionError):
            new_session().send(signed_like_botocore(f"http://127.0.0.1:{port}/"))


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> Path:
    directory = tmp_path_factory.mktemp("tls")
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj", "/CN=localhost",
         "-addext", "subjectAltName=DNS:localhost", "-keyout", str(directory / "key.pem"),
         "-out", str(directory / "cert.pem")],
        check=True, capture_output=True,
    )  # fmt: skip
    return directory


class TestTLS:
    def tls_server(self, serve, certificate: Path) -> ScriptedServer:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(certificate / "cert.pem", certificate / "key.pem")
        return serve(answer_each_request(OK), tls=context)

    def test_a_server_whose_certificate_verifies_is_answered_over_one_connection(self, serve, certificate):
        server = self.tls_server(serve, certificate)
        session = new_session(verify=str(certificate / "cert.pem"))
        for _ in range(3):
            assert session.send(signed_like_botocore(server.url)).content == b"{}"
        assert server.connections == 1

    def test_a_certificate_no_authority_signed_is_refused(self, serve, certificate):
        server = self.tls_server(serve, certificate)
        with pytest.raises(SSLError):
            new_session().send(signed_like_botocore(server.url))
        assert server.requests == []
