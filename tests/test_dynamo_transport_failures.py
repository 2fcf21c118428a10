"""The lean DynamoDB transport's failures, raised as the botocore exceptions its retries know, and
its TLS: against scripted servers (tests/scripted_http.py)."""

from __future__ import annotations

import socket
import ssl
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import (
    ConnectionClosedError,
    EndpointConnectionError,
    ProxyConnectionError,
    ReadTimeoutError,
    SSLError,
)

from tests.scripted_http import (
    OK,
    ScriptedServer,
    answer_each_request,
    botocore_request,
    new_session,
    read_request,
)


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
            assert session.send(botocore_request(server.url)).status_code == 200
            assert closed.acquire(timeout=5)
        assert server.connections == 3

    def test_an_answer_cut_short_is_a_closed_connection_botocore_retries(self, serve):
        def cut_short(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            sock.sendall(b'HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n{"partial')

        server = serve(cut_short)
        with pytest.raises(ConnectionClosedError):
            new_session().send(botocore_request(server.url))

    def test_a_server_that_stalls_is_a_read_timeout(self, serve):
        release = threading.Event()

        def stall(server: ScriptedServer, _: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            release.wait(5)

        server = serve(stall)
        try:
            with pytest.raises(ReadTimeoutError):
                new_session(read_timeout=0.2).send(botocore_request(server.url))
        finally:
            release.set()

    def test_a_configured_proxy_is_left_to_botocore_s_own_session(self, serve):
        server = serve(answer_each_request(OK))
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            closed_port = probe.getsockname()[1]
        session = new_session(proxies={"http": f"http://127.0.0.1:{closed_port}"})
        with pytest.raises(ProxyConnectionError):
            session.send(botocore_request(server.url))
        assert server.connections == 0

    def test_nothing_listening_is_an_endpoint_connection_error(self):
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        with pytest.raises(EndpointConnectionError):
            new_session().send(botocore_request(f"http://127.0.0.1:{port}/"))


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
            assert session.send(botocore_request(server.url)).content == b"{}"
        assert server.connections == 1

    def test_a_certificate_no_authority_signed_is_refused(self, serve, certificate):
        server = self.tls_server(serve, certificate)
        with pytest.raises(SSLError):
            new_session().send(botocore_request(server.url))
        assert server.requests == []
