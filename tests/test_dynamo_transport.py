"""The lean HTTP transport under the shared DynamoDB client (courseproject/dynamo/transport.py): against
DynamoDB Local, and against scripted servers for answers DynamoDB Local never gives. Failures and
TLS are in test_dynamo_transport_failures.py."""

from __future__ import annotations

import socket
import threading
from typing import Any

import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials
from botocore.httpsession import URLLib3Session

from courseproject.dynamo.client import dynamodb_client, reset_dynamodb_client
from courseproject.dynamo.transport import KeepAliveSession
from courses.models import Course
from tests.scripted_http import (
    OK,
    ScriptedServer,
    answer_each_request,
    botocore_request,
    new_session,
    read_request,
)


class TestAgainstDynamoDBLocal:
    def test_the_shared_client_keeps_one_connection_alive_across_calls(self, make_course):
        course = make_course()
        reset_dynamodb_client()  # a client of its own: earlier tests' threads leave several idle sockets
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
        reset_dynamodb_client()
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

    def test_what_goes_on_the_wire_is_what_botocore_signed(self, serve, settings):
        server = serve(answer_each_request(OK))
        settings.DYNAMODB_ENDPOINT_URL = server.url
        settings.AWS_ACCESS_KEY_ID, settings.AWS_SECRET_ACCESS_KEY = "AKIDEXAMPLE", "transport-test-secret"
        reset_dynamodb_client()
        try:
            dynamodb_client().get_item(TableName="t", Key={"id": {"S": "1"}})
        finally:
            reset_dynamodb_client()
        (raw,) = server.requests
        head, _, body = raw.partition(b"\r\n\r\n")
        headers = dict(line.split(": ", 1) for line in head.decode("latin-1").split("\r\n")[1:])
        authorization = headers.pop("Authorization")
        signed_names = authorization.split("SignedHeaders=")[1].split(",")[0].split(";")
        assert "host" in signed_names
        # As DynamoDB verifies: the headers the signature names, as they arrived, and the body.
        signed = {name: value for name, value in headers.items() if name.lower() in signed_names}
        received = AWSRequest(method="POST", url=server.url, headers=signed, data=body)
        received.context["timestamp"] = headers["X-Amz-Date"]
        signer = SigV4Auth(Credentials("AKIDEXAMPLE", "transport-test-secret"), "dynamodb", settings.AWS_REGION)
        signature = signer.signature(signer.string_to_sign(received, signer.canonical_request(received)), received)
        assert authorization.endswith(f"Signature={signature}")


class TestAnswers:
    def test_a_chunked_answer_is_joined(self, serve):
        chunked = b'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n4\r\n{"a"\r\n5\r\n: 1}\n\r\n0\r\n\r\n'
        server = serve(answer_each_request(chunked))
        session = new_session()
        for _ in range(2):
            response = session.send(botocore_request(server.url))
            assert (response.status_code, response.content) == (200, b'{"a": 1}\n')
        assert server.connections == 1

    def test_an_interim_100_answer_is_skipped_and_headers_are_case_insensitive(self, serve):
        answer = (
            b"HTTP/1.1 100 Continue\r\n\r\n"
            + b"HTTP/1.1 400 Bad Request\r\nX-Amzn-RequestId: r1\r\nContent-Length: 3\r\n\r\nbad"
        )
        server = serve(answer_each_request(answer))
        response = new_session().send(botocore_request(server.url))
        assert (response.status_code, response.content) == (400, b"bad")
        assert response.headers["x-amzn-requestid"] == "r1"

    def test_the_request_carries_the_signed_host_and_its_length(self, serve):
        server = serve(answer_each_request(OK))
        new_session().send(botocore_request(server.url, body=b"12345"))
        head, _, body = server.requests[0].partition(b"\r\n\r\n")
        lines = head.split(b"\r\n")
        assert lines[0] == b"POST / HTTP/1.1"
        assert f"Host: localhost:{server.server_address[1]}".encode() in lines
        assert b"Content-Length: 5" in lines
        assert body == b"12345"

    def test_a_header_with_a_line_break_is_refused_before_anything_is_sent(self, serve):
        server = serve(answer_each_request(OK))
        with pytest.raises(ValueError, match="line break"):
            new_session().send(botocore_request(server.url, **{"X-Evil": "a\r\nX-Injected: 1"}))
        assert server.connections == 0

    def test_an_answer_delimited_by_close_is_read_and_its_connection_not_reused(self, serve):
        def close_after_answer(server: ScriptedServer, sock: socket.socket, reader: Any) -> None:
            read_request(server, reader)
            sock.sendall(b"HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{}")

        server = serve(close_after_answer)
        session = new_session()
        assert session.send(botocore_request(server.url)).content == b"{}"
        assert session.send(botocore_request(server.url)).content == b"{}"
        assert server.connections == 2
