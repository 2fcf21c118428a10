"""What the lean item calls (courseproject/dynamo/lean_calls.py) send, against what botocore signs and
where it sends: clients that send nothing (a before-send handler answers), for AWS's endpoints."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import botocore.auth
import botocore.session
import orjson
import pytest
from botocore.awsrequest import AWSRequest, AWSResponse
from botocore.credentials import Credentials

from courseproject.dynamo.lean_calls import install
from tests.test_dynamo_lean_calls import Raw


@contextmanager
def botocore_pipeline_calls_of(client: Any) -> Iterator[list[str]]:
    operations: list[str] = []

    def record(request: Any, operation_name: str, **_: Any) -> None:
        operations.append(operation_name)

    client.meta.events.register("request-created.dynamodb", record)
    try:
        yield operations
    finally:
        client.meta.events.unregister("request-created.dynamodb", record)


def _scripted_client(*, endpoint_url: str | None, token: str | None, account_id: str | None, lean: bool) -> Any:
    """A DynamoDB client that sends nothing: a before-send handler keeps each request and answers {}.
    Returns the client and the list of requests it kept."""
    session = botocore.session.get_session()
    session.set_credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token, account_id)
    client = session.create_client("dynamodb", region_name="eu-west-1", endpoint_url=endpoint_url)
    sent: list[Any] = []

    def answer_instead(request: Any, **_: Any) -> AWSResponse:
        sent.append(request)
        return AWSResponse(request.url, 200, {"x-amzn-RequestId": "scripted"}, Raw(b"{}"))

    client.meta.events.register("before-send.dynamodb", answer_instead)
    if lean:
        install(client)
    return client, sent


def _text_headers(request: Any) -> dict[str, str]:
    return {name: value.decode() if isinstance(value, bytes) else value for name, value in request.headers.items()}


class TestSignature:
    @pytest.mark.parametrize(
        ("endpoint_url", "token", "account_id"),
        [
            (None, None, None),
            (None, "FwoGZXIvYXdzEXAMPLE//token+/=", None),  # an ECS task role's session
            (None, "FwoGZXIvYXdzEXAMPLE//token+/=", "123456789012"),  # an account's own endpoint
            ("http://127.0.0.1:8601", None, None),  # DynamoDB Local
        ],
    )
    def test_what_the_lean_path_sends_is_what_botocore_signs(self, monkeypatch, endpoint_url, token, account_id):
        """The lean path's request, as sent, signed again by botocore's SigV4Auth at the same instant:
        the same Authorization header; and it goes where botocore's own client sends the call."""
        transaction = {"TransactItems": [{"Put": {"TableName": "t", "Item": {"pk": {"S": "é ü"}, "n": {"N": "1"}}}}]}
        lean_client, lean_sent = _scripted_client(
            endpoint_url=endpoint_url, token=token, account_id=account_id, lean=True
        )
        with botocore_pipeline_calls_of(lean_client) as pipeline:
            lean_client.transact_write_items(**transaction)
        assert pipeline == []
        (request,) = lean_sent
        headers = _text_headers(request)
        unsigned = {
            name: value
            for name, value in headers.items()
            if name not in ("Authorization", "X-Amz-Date", "X-Amz-Security-Token")
        }
        signed_again = AWSRequest(method=request.method, url=request.url, data=request.body, headers=unsigned)
        instant = datetime.strptime(headers["X-Amz-Date"], "%Y%m%dT%H%M%SZ")
        monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda *_, **__: instant)
        credentials = Credentials("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY", token)
        botocore.auth.SigV4Auth(credentials, "dynamodb", "eu-west-1").add_auth(signed_again)
        assert headers["Authorization"] == signed_again.headers["Authorization"]
        assert headers.get("X-Amz-Security-Token") == signed_again.headers.get("X-Amz-Security-Token")

        botocore_client, botocore_sent = _scripted_client(
            endpoint_url=endpoint_url, token=token, account_id=account_id, lean=False
        )
        botocore_client.transact_write_items(**transaction)
        assert request.url == botocore_sent[0].url
        assert orjson.loads(request.body).keys() == orjson.loads(botocore_sent[0].body).keys()
