"""The shared DynamoDB connection, BatchGetItem with retries, and `create_indexes`."""

from __future__ import annotations

import io
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from types import SimpleNamespace

import pytest
from django.core.management import CommandError, call_command
from pynamodb.exceptions import PutError

from accounts.models import User
from courseproject.dynamo.batch import batch_get
from courseproject.dynamo.client import dynamodb_client, observe_client_events
from courseproject.dynamo.models import registered_models
from courseproject.dynamo.tables import describe_table, table_definition
from courses.models import Course
from enrollments.models import Enrollment


class TestSharedConnection:
    def test_every_model_talks_through_one_client(self):
        clients = {id(model._get_connection().connection.client) for model in registered_models()}
        assert clients == {id(dynamodb_client())}

    def test_the_client_has_a_large_pool_adaptive_retries_and_timeouts(self):
        config = dynamodb_client().meta.config
        assert config.max_pool_connections >= 50
        assert config.retries["mode"] == "adaptive"
        assert config.connect_timeout <= 2
        assert config.read_timeout <= 10


class TestBatchGet:
    def test_fetches_more_than_100_keys_in_calls_of_100(self, make_course, dynamodb_calls):
        course = make_course()
        keys = [course.course_id] + [uuid.uuid4().hex for _ in range(149)]
        dynamodb_calls.clear()
        found = batch_get(Course, keys)
        assert list(found) == [course.course_id]
        assert dynamodb_calls.operations == ["BatchGetItem", "BatchGetItem"]

    def test_unprocessed_keys_are_retried_until_every_item_arrives(self, make_course):
        """DynamoDB may answer part of a batch (throttling, 16 MB); stand in for it on the first call."""
        courses = [make_course() for _ in range(3)]
        table = Course.Meta.table_name
        requested_keys: list[int] = []

        def leave_everything_unprocessed_once(params, **_):
            keys = json.loads(params["body"])["RequestItems"][table]["Keys"]
            requested_keys.append(len(keys))
            if len(requested_keys) > 1:
                return None  # on to DynamoDB Local
            answer = {"Responses": {table: []}, "UnprocessedKeys": {table: {"Keys": keys}}}
            return SimpleNamespace(status_code=200, headers={}), answer

        unregister = observe_client_events("before-call.dynamodb.BatchGetItem", leave_everything_unprocessed_once)
        try:
            found = batch_get(Course, [course.course_id for course in courses])
        finally:
            unregister()
        assert sorted(found) == sorted(course.course_id for course in courses)
        assert requested_keys == [3, 3]


class TestCreateIndexes:
    @pytest.fixture
    def bare_courses_table(self, monkeypatch):
        """The Courses table as an old deployment had it: keys only, no GSIs."""
        table_name = f"test-bare-{uuid.uuid4().hex[:8]}"
        monkeypatch.setattr(Course.Meta, "table_name", table_name)
        definition = table_definition(Course)
        dynamodb_client().create_table(
            TableName=table_name,
            AttributeDefinitions=[{"AttributeName": "course_id", "AttributeType": "S"}],
            KeySchema=definition["KeySchema"],
            BillingMode="PAY_PER_REQUEST",
        )
        return table_name

    def test_adds_missing_indexes_to_an_existing_table(self, bare_courses_table, make_course):
        dry_run = io.StringIO()
        call_command("create_indexes", "--dry-run", stdout=dry_run)
        assert f"plan  add index CoursesByCode to {bare_courses_table}" in dry_run.getvalue()
        assert f"plan  add index CoursesByInstructor to {bare_courses_table}" in dry_run.getvalue()
        assert f"plan  add index CoursesBySemester to {bare_courses_table}" in dry_run.getvalue()
        assert f"plan  add index CoursesWithWaitlist to {bare_courses_table}" in dry_run.getvalue()
        assert describe_table(bare_courses_table).get("GlobalSecondaryIndexes") is None

        course = make_course()  # written before the index exists: the backfill must pick it up
        output = io.StringIO()
        call_command("create_indexes", stdout=output)
        indexes = describe_table(bare_courses_table)["GlobalSecondaryIndexes"]
        assert {index["IndexName"]: index["IndexStatus"] for index in indexes} == {
            "CoursesByCode": "ACTIVE",
            "CoursesByInstructor": "ACTIVE",
            "CoursesBySemester": "ACTIVE",
            "CoursesWithWaitlist": "ACTIVE",
        }
        assert [found.course_id for found in Course.by_semester.query(course.semester_id)] == [course.course_id]

        again = io.StringIO()
        call_command("create_indexes", stdout=again)
        assert "Nothing to do" in again.getvalue()

    def test_a_second_run_finds_nothing_to_do(self):
        output = io.StringIO()
        call_command("create_indexes", stdout=output)
        assert "Nothing to do" in output.getvalue()

    def test_table_definitions_come_from_the_models(self):
        definitions = {table_definition(model)["TableName"]: table_definition(model) for model in registered_models()}
        enrollments = definitions[Enrollment.Meta.table_name]
        assert [index["IndexName"] for index in enrollments["GlobalSecondaryIndexes"]] == [
            "EnrollmentsByCourse",
            "EnrollmentsByUser",
            "WaitlistByCourse",
        ]
        assert enrollments["GlobalSecondaryIndexes"][1]["KeySchema"] == [
            {"AttributeName": "user_id", "KeyType": "HASH"},
            {"AttributeName": "enrolled_at", "KeyType": "RANGE"},
        ]
        assert definitions[User.Meta.table_name]["BillingMode"] == "PAY_PER_REQUEST"


class TestPruneAndCheck:
    @pytest.fixture
    def users_table_with_the_old_email_index(self, monkeypatch):
        """The Users table as deployments before had it: with UsersByEmail, which projected every
        attribute (password hashes included) and which no model declares any more."""
        table_name = f"test-users-{uuid.uuid4().hex[:8]}"
        monkeypatch.setattr(User.Meta, "table_name", table_name)
        definition = table_definition(User)
        old_index = {
            "IndexName": "UsersByEmail",
            "KeySchema": [{"AttributeName": "email", "KeyType": "HASH"}],
            "Projection": {"ProjectionType": "ALL"},
        }
        dynamodb_client().create_table(
            **{**definition, "GlobalSecondaryIndexes": [*definition["GlobalSecondaryIndexes"], old_index]}
        )
        return table_name

    def index_names(self, table_name: str) -> set[str]:
        return {index["IndexName"] for index in describe_table(table_name).get("GlobalSecondaryIndexes", [])}

    def test_an_undeclared_index_is_left_in_place_unless_pruned(self, users_table_with_the_old_email_index):
        table_name = users_table_with_the_old_email_index
        output = io.StringIO()
        call_command("create_indexes", stdout=output)
        assert f"index UsersByEmail of {table_name}, which no model declares: left in place" in output.getvalue()

        dry_run = io.StringIO()
        call_command("create_indexes", "--prune", "--dry-run", stdout=dry_run)
        assert f"plan  delete index UsersByEmail of {table_name}" in dry_run.getvalue()
        assert self.index_names(table_name) == {"UsersByEmail", "UsersByRole"}

        call_command("create_indexes", "--prune", stdout=io.StringIO())
        assert self.index_names(table_name) == {"UsersByRole"}
        again = io.StringIO()
        call_command("create_indexes", "--prune", stdout=again)
        assert "Nothing to do" in again.getvalue()

    def test_check_reports_drift_and_changes_nothing(self, users_table_with_the_old_email_index):
        table_name = users_table_with_the_old_email_index
        output = io.StringIO()
        with pytest.raises(CommandError, match="1 difference"):
            call_command("create_indexes", "--check", stdout=output)
        assert f"drift delete index UsersByEmail of {table_name}" in output.getvalue()
        assert self.index_names(table_name) == {"UsersByEmail", "UsersByRole"}

        call_command("create_indexes", "--prune", stdout=io.StringIO())
        in_sync = io.StringIO()
        call_command("create_indexes", "--check", stdout=in_sync)
        assert "No drift" in in_sync.getvalue()

    def test_no_model_projects_password_hashes_into_an_index(self):
        for index_schema in User._get_schema()["global_secondary_indexes"]:
            assert index_schema["projection"]["ProjectionType"] == "KEYS_ONLY", index_schema["index_name"]


@contextmanager
def every_put_sent_twice() -> Iterator[list[int]]:
    """A needs-retry handler on the shared client asks for a second attempt of every put DynamoDB
    Local has taken, as botocore does when a put's answer is lost; yields the attempts it saw."""
    client = dynamodb_client()
    sent: list[int] = []

    def once_more(attempts: int, **_: object) -> int | None:
        sent.append(attempts)
        return 0 if attempts == 1 else None  # seconds to wait before sending it again

    client.meta.events.register("needs-retry.dynamodb.PutItem", once_more)
    try:
        yield sent
    finally:
        client.meta.events.unregister("needs-retry.dynamodb.PutItem", once_more)


class TestSaveNew:
    def test_a_put_sent_again_after_it_landed_is_a_success(self, make_course):
        user = User.get(make_course().instructor_id)
        user.user_id = uuid.uuid4().hex
        with every_put_sent_twice() as sent:
            user.save_new()
        assert sent == [1, 2]
        assert User.get(user.user_id, consistent_read=True).serialize() == user.serialize()

    def test_another_item_under_the_key_is_a_conflict(self, make_course):
        course = make_course()
        other = Course.get(course.course_id)
        other.title = "Someone else's"
        with pytest.raises(PutError):
            other.save_new()
        assert Course.get(course.course_id, consistent_read=True).title == course.title
