"""DynamoDB's item answers as the shared client parses them (courseproject/dynamo/responses.py), and
reads of only some attributes (batch_get_items' `attributes`), against DynamoDB Local."""

from __future__ import annotations

import uuid

import pytest
from botocore.exceptions import ClientError
from botocore.parsers import JSONParser, ResponseParserFactory

from courseproject.dynamo.batch import batch_get_items
from courseproject.dynamo.client import dynamodb_client
from courseproject.dynamo.responses import DynamoParserFactory, ItemAnswerParser
from courses.models import Course
from courses.selectors import SEAT_ATTRIBUTES
from enrollments.models import Schedule
from enrollments.selectors import CREDITS_ONLY


@pytest.fixture
def botocore_parsing():
    """Run a call with botocore's own parsers on the shared client, for comparison."""
    endpoint = dynamodb_client()._endpoint

    def call(operation: str, **params):
        ours = endpoint._response_parser_factory
        endpoint._response_parser_factory = ResponseParserFactory()
        try:
            return getattr(dynamodb_client(), operation)(**params)
        finally:
            endpoint._response_parser_factory = ours

    return call


@pytest.fixture
def odd_item():
    """An item with every kind of value, binary ones included, in the courses table."""
    table = Course.Meta.table_name
    key = {"course_id": {"S": uuid.uuid4().hex}}
    item = {
        **key,
        "title": {"S": 'Quotes " and \\ and "B": text'},
        "count": {"N": "12.5"},
        "flags": {"BOOL": True},
        "nothing": {"NULL": True},
        "tags": {"SS": ["a", "b"]},
        "sizes": {"NS": ["1", "2"]},
        "meetings": {"L": [{"M": {"day": {"S": "MON"}, "start": {"N": "540"}}}]},
        "photo": {"B": b"\x00\x01\xfe"},
        "keys": {"BS": [b"\x01", b"\x02"]},
    }
    dynamodb_client().put_item(TableName=table, Item=item)
    yield table, key, item
    dynamodb_client().delete_item(TableName=table, Key=key)


def test_the_shared_client_parses_with_the_item_parser():
    assert isinstance(dynamodb_client()._endpoint._response_parser_factory, DynamoParserFactory)
    assert isinstance(DynamoParserFactory().create_parser("json"), ItemAnswerParser)


def test_an_item_with_binary_values_reads_as_botocore_reads_it(odd_item, botocore_parsing):
    table, key, item = odd_item
    ours = dynamodb_client().get_item(TableName=table, Key=key, ConsistentRead=True)
    assert ours["Item"] == item  # the binary values as bytes, not base64 text
    assert ours["Item"] == botocore_parsing("get_item", TableName=table, Key=key, ConsistentRead=True)["Item"]


def test_items_without_binary_values_read_as_botocore_reads_them(make_course, botocore_parsing):
    courses = [make_course(), make_course()]
    table = Course.Meta.table_name
    keys = [{"course_id": {"S": course.course_id}} for course in courses]
    request = {"RequestItems": {table: {"Keys": keys, "ConsistentRead": True}}, "ReturnConsumedCapacity": "TOTAL"}
    ours = dynamodb_client().batch_get_item(**request)
    theirs = botocore_parsing("batch_get_item", **request)
    assert sorted(ours["Responses"][table], key=str) == sorted(theirs["Responses"][table], key=str)
    assert ours["ConsumedCapacity"] == theirs["ConsumedCapacity"]
    assert len(ours["Responses"][table]) == 2
    query = {"TableName": table, "KeyConditionExpression": "course_id = :id"}
    query["ExpressionAttributeValues"] = {":id": {"S": courses[0].course_id}}
    assert dynamodb_client().query(**query)["Items"] == botocore_parsing("query", **query)["Items"]


def test_an_error_answer_is_botocores_error():
    with pytest.raises(ClientError) as raised:
        dynamodb_client().get_item(TableName="no-such-table", Key={"id": {"S": "x"}})
    assert raised.value.response["Error"]["Code"] == "ResourceNotFoundException"


@pytest.mark.parametrize("body", [b"<html>", b'{"Item": {"photo": {"B": "AAH+"}}}'])
def test_what_the_item_parser_does_not_take_is_parsed_as_botocore_parses_it(body):
    shape = dynamodb_client().meta.service_model.operation_model("GetItem").output_shape
    response = {"status_code": 200, "headers": {}, "body": body}
    assert ItemAnswerParser().parse(dict(response), shape) == JSONParser().parse(dict(response), shape)


def test_batch_get_items_reads_only_the_attributes_asked_for(make_course, student):
    course = make_course(description="A long description no seat needs.")
    Schedule(user_id=student.user_id, semester_id=course.semester_id, enrolled_credits=7, courses={"c": {}}).save()
    read_course, schedule, missing = batch_get_items(
        [(Course, course.course_id), (Schedule, (student.user_id, course.semester_id)), (Course, uuid.uuid4().hex)],
        attributes={**CREDITS_ONLY, Course: SEAT_ATTRIBUTES},
    )
    assert (read_course.course_id, int(read_course.capacity), read_course.description) == (
        course.course_id,
        int(course.capacity),
        "",  # the default: not read
    )
    assert (int(schedule.enrolled_credits), schedule.courses) == (7, {})
    assert missing is None
