"""Item calls without botocore's request pipeline (courseproject/dynamo/lean_calls.py), against DynamoDB
Local: the answers, errors, events and retries against botocore's own. The signature:
test_dynamo_lean_signature.py."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import orjson
import pytest
from botocore.awsrequest import AWSResponse
from botocore.exceptions import ClientError, ConnectionClosedError

from courseproject.dynamo.client import dynamodb_client, observe_client_events, reset_dynamodb_client
from courseproject.dynamo.lean_calls import LeanCaller
from courses.models import Course


@contextmanager
def botocore_pipeline_calls() -> Iterator[list[str]]:
    """The operations the shared client sent through botocore's own request pipeline (its
    request-created event)."""
    operations: list[str] = []
    unregister = observe_client_events(
        "request-created.dynamodb", lambda request, operation_name, **_: operations.append(operation_name)
    )
    try:
        yield operations
    finally:
        unregister()


def _without_metadata(answer: dict[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in answer.items() if key != "ResponseMetadata"}


class Raw:
    """The raw body of a scripted AWSResponse."""

    def __init__(self, content: bytes) -> None:
        self.content = content

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self.content


def error_once(answered: list[str], status: int, error_type: str, message: str) -> Any:
    """A before-send handler that answers the first request with this DynamoDB error in DynamoDB's
    place (noting its URL in `answered`) and lets the later ones through."""

    def answer_first(request: Any, **_: Any) -> AWSResponse | None:
        if answered:
            return None
        answered.append(request.url)
        body = orjson.dumps({"__type": error_type, "message": message})
        return AWSResponse(request.url, status, {"x-amzn-RequestId": uuid.uuid4().hex}, Raw(body))

    return answer_first


class TestAgainstDynamoDBLocal:
    def test_item_calls_skip_botocore_s_pipeline_and_table_calls_take_it(self, make_course):
        course = make_course()
        with botocore_pipeline_calls() as pipeline:
            Course.get(course.course_id, consistent_read=True)
            list(Course.query(course.course_id))
            dynamodb_client().describe_table(TableName=Course.Meta.table_name)
        assert pipeline == ["DescribeTable"]

    @pytest.mark.parametrize("operation", ["GetItem", "Query", "BatchGetItem"])
    def test_answers_are_botocore_s(self, make_course, settings, operation):
        course = make_course()
        table, key = Course.Meta.table_name, {"course_id": {"S": course.course_id}}
        calls = {
            "GetItem": lambda client: client.get_item(TableName=table, Key=key, ConsistentRead=True),
            "Query": lambda client: client.query(
                TableName=table,
                KeyConditionExpression="course_id = :id",
                ExpressionAttributeValues={":id": {"S": course.course_id}},
                ReturnConsumedCapacity="TOTAL",
            ),
            "BatchGetItem": lambda client: client.batch_get_item(RequestItems={table: {"Keys": [key]}}),
        }
        with botocore_pipeline_calls() as pipeline:
            lean = calls[operation](dynamodb_client())
        assert pipeline == []
        settings.DYNAMODB_LEAN_CALLS = False
        reset_dynamodb_client()
        try:
            with botocore_pipeline_calls() as pipeline:
                assert _without_metadata(calls[operation](dynamodb_client())) == _without_metadata(lean)
            assert pipeline == [operation]
        finally:
            reset_dynamodb_client()
        assert lean["ResponseMetadata"]["HTTPStatusCode"] == 200
        assert lean["ResponseMetadata"]["RetryAttempts"] == 0

    def test_refusals_raise_the_errors_botocore_raises(self, make_course, settings):
        course = make_course()
        table, key = Course.Meta.table_name, {"course_id": {"S": course.course_id}}

        def refused(client: Any) -> list[tuple[str, str, dict[str, Any]]]:
            errors = []
            for call in (
                lambda: client.put_item(
                    TableName=table, Item=key, ConditionExpression="attribute_not_exists(course_id)"
                ),
                lambda: client.transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": table,
                                "Key": key,
                                "UpdateExpression": "SET #capacity = :c",
                                "ConditionExpression": "#capacity = :wrong",
                                "ExpressionAttributeNames": {"#capacity": "capacity"},
                                "ExpressionAttributeValues": {":c": {"N": "1"}, ":wrong": {"N": "-1"}},
                                "ReturnValuesOnConditionCheckFailure": "ALL_OLD",
                            }
                        }
                    ]
                ),
                lambda: client.get_item(TableName="no-such-table", Key=key),
            ):
                with pytest.raises(ClientError) as raised:
                    call()
                error = raised.value
                errors.append((type(error).__name__, error.operation_name, _without_metadata(error.response)))
            return errors

        with botocore_pipeline_calls() as pipeline:
            lean = refused(dynamodb_client())
        assert pipeline == []
        settings.DYNAMODB_LEAN_CALLS = False
        reset_dynamodb_client()
        try:
            assert refused(dynamodb_client()) == lean
        finally:
            reset_dynamodb_client()
        assert [name for name, _, _ in lean] == [
            "ConditionalCheckFailedException",
            "TransactionCanceledException",
            "ResourceNotFoundException",
        ]
        assert lean[1][2]["CancellationReasons"][0]["Item"]["course_id"] == {"S": course.course_id}

    def test_observers_see_each_call_and_may_ask_for_consumed_capacity(self, make_course):
        course = make_course()
        seen: list[tuple[str, str]] = []

        def ask_for_capacity(params: dict[str, Any], **_: Any) -> None:
            params["ReturnConsumedCapacity"] = "TOTAL"

        unregister = [
            observe_client_events("provide-client-params.dynamodb.GetItem", ask_for_capacity),
            observe_client_events("before-call.dynamodb", lambda model, **_: seen.append(("before", model.name))),
            observe_client_events(
                "after-call.dynamodb",
                lambda model, parsed, **_: seen.append(("after", str(parsed["ConsumedCapacity"]))),
            ),
        ]
        try:
            with botocore_pipeline_calls() as pipeline:
                answer = dynamodb_client().get_item(
                    TableName=Course.Meta.table_name, Key={"course_id": {"S": course.course_id}}
                )
        finally:
            for undo in unregister:
                undo()
        assert pipeline == []
        assert answer["ConsumedCapacity"]["CapacityUnits"] > 0
        assert seen == [("before", "GetItem"), ("after", str(answer["ConsumedCapacity"]))]

    def test_a_transaction_sent_again_keeps_its_idempotency_token(self, make_course):
        """botocore's retry handler asks for a second attempt of a transaction DynamoDB Local applied (its
        answer lost, say): the second carries the first's token, so the seat is counted once."""
        course = make_course()
        bodies: list[bytes] = []
        unregister = [
            observe_client_events(
                "before-send.dynamodb.TransactWriteItems", lambda request, **_: bodies.append(request.body)
            ),
            observe_client_events(
                "needs-retry.dynamodb.TransactWriteItems", lambda attempts, **_: 0 if attempts == 1 else None
            ),
        ]
        try:
            with botocore_pipeline_calls() as pipeline:
                answer = dynamodb_client().transact_write_items(
                    TransactItems=[
                        {
                            "Update": {
                                "TableName": Course.Meta.table_name,
                                "Key": {"course_id": {"S": course.course_id}},
                                "UpdateExpression": "ADD enrolled_count :one",
                                "ExpressionAttributeValues": {":one": {"N": "1"}},
                            }
                        }
                    ]
                )
        finally:
            for undo in unregister:
                undo()
        assert pipeline == []
        assert len(bodies) == 2 and bodies[0] == bodies[1]
        assert b"ClientRequestToken" in bodies[0]
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        assert Course.get(course.course_id, consistent_read=True).enrolled_count == course.enrolled_count + 1

    def test_a_throttled_call_is_tried_again_by_botocore_s_rules(self, make_course):
        course = make_course()
        throttled: list[str] = []
        throttle_the_first = error_once(
            throttled, 400, "com.amazonaws.dynamodb.v20120810#ThrottlingException", "slow down"
        )
        unregister = observe_client_events("before-send.dynamodb.GetItem", throttle_the_first)
        try:
            with botocore_pipeline_calls() as pipeline:
                answer = dynamodb_client().get_item(
                    TableName=Course.Meta.table_name, Key={"course_id": {"S": course.course_id}}
                )
        finally:
            unregister()
        assert throttled and pipeline == []
        assert answer["ResponseMetadata"]["RetryAttempts"] == 1
        assert answer["Item"]["course_id"] == {"S": course.course_id}

    def test_a_send_that_fails_for_good_is_raised_after_botocore_s_event(self, make_course):
        course = make_course()
        failures: list[Any] = []

        def never_sent(request: Any, **_: Any) -> None:
            raise ConnectionClosedError(endpoint_url=request.url)

        unregister = [
            observe_client_events("before-send.dynamodb.GetItem", never_sent),
            observe_client_events("needs-retry.dynamodb.GetItem", lambda attempts, **_: 0 if attempts < 3 else None),
            observe_client_events(
                "after-call-error.dynamodb.GetItem", lambda exception, **_: failures.append(exception)
            ),
        ]
        try:
            with botocore_pipeline_calls() as pipeline, pytest.raises(ConnectionClosedError):
                dynamodb_client().get_item(TableName=Course.Meta.table_name, Key={"course_id": {"S": course.course_id}})
        finally:
            for undo in unregister:
                undo()
        assert pipeline == []
        assert [type(failure) for failure in failures] == [ConnectionClosedError]

    def test_a_refused_signature_is_sent_again_by_botocore(self, make_course):
        course = make_course()
        refusals: list[str] = []
        refuse_the_first = error_once(
            refusals,
            403,
            "com.amazon.coral.service#InvalidSignatureException",
            "The request signature we calculated does not match the signature you provided.",
        )

        reset_dynamodb_client()  # a client of its own: it signs with botocore after the refusal
        unregister = observe_client_events("before-send.dynamodb.GetItem", refuse_the_first)
        try:
            with botocore_pipeline_calls() as pipeline:
                answer = Course.get(course.course_id, consistent_read=True)
                Course.get(course.course_id)
        finally:
            unregister()
            reset_dynamodb_client()
        assert len(refusals) == 1
        assert pipeline == ["GetItem", "GetItem"]
        assert answer.course_id == course.course_id

    def test_binary_values_go_through_botocore(self):
        table, key = Course.Meta.table_name, {"course_id": {"S": f"binary-{uuid.uuid4().hex}"}}
        client = dynamodb_client()
        with botocore_pipeline_calls() as pipeline:
            client.put_item(TableName=table, Item={**key, "blob": {"B": b"\x00\xff"}})
            answer = client.get_item(TableName=table, Key=key, ConsistentRead=True)
            client.delete_item(TableName=table, Key=key)
        assert pipeline == ["PutItem"]
        assert answer["Item"]["blob"] == {"B": b"\x00\xff"}

    def test_switched_off_every_call_is_botocore_s(self, make_course, settings):
        settings.DYNAMODB_LEAN_CALLS = False
        reset_dynamodb_client()
        try:
            assert not isinstance(dynamodb_client()._make_api_call, LeanCaller)
            with botocore_pipeline_calls() as pipeline:
                Course.get(make_course().course_id)
            assert "GetItem" in pipeline
        finally:
            reset_dynamodb_client()  # the next client, made once the setting is back, is lean again
