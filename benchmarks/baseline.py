"""The "before" implementation the benchmark compares against, mounted only by benchmarks.settings
under /baseline/api/: the same endpoints and response shapes as the product, done the old way.

- every request creates its own boto3 client (no shared pool, no keep-alive between requests);
- every list is a full-table Scan with a FilterExpression, then sorted and sliced in Python;
- lists that embed other items read them with one GetItem per row;
- no cache;
- DRF serializers render every response;
- an enroll sends its confirmation email inline (an SMTP round trip of BASELINE_EMAIL_SECONDS).

Writes keep the product's transactional conditions, so the three benchmark configurations share one
consistent dataset. Nothing outside benchmarks/ imports this module.
"""

from __future__ import annotations

import base64
import time
from typing import Any

import boto3
from botocore.exceptions import ClientError
from django.conf import settings
from django.contrib.auth.hashers import PBKDF2PasswordHasher
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import ProfileSerializer, user_profile
from benchmarks.instrumentation import instrument_client
from courseproject.api.errors import ConflictError, InvalidInputError, NotFoundError, PermissionDeniedError
from courseproject.api.pagination import MAX_PAGE_SIZE
from courseproject.api.schema import PageQuerySerializer
from courses.models import Course
from courses.permissions import ensure_can_manage
from courses.serializers import CourseListQuerySerializer, CourseSerializer, CourseUpdateSerializer
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.serializers import (
    EnrollmentSerializer,
    EnrollmentWithCourseSerializer,
    EnrollSerializer,
    MyEnrollmentsQuerySerializer,
    RosterEntrySerializer,
)


class BenchPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 as in production, with 1,000 iterations so that signing in 500 simulated users does
    not eat the CPU the benchmark measures (see benchmarks/settings.py)."""

    iterations = 1_000


class SlowSMTPEmailBackend(BaseEmailBackend):
    """Stands in for an SMTP server: each message takes BASELINE_EMAIL_SECONDS, then is dropped."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        for _ in email_messages:
            time.sleep(settings.BASELINE_EMAIL_SECONDS)
        return len(email_messages)


def new_client() -> Any:
    """A new client per request, as the old code did (about 8 ms of set-up each time)."""
    client = boto3.client(
        "dynamodb",
        region_name=settings.AWS_REGION,
        endpoint_url=settings.DYNAMODB_ENDPOINT_URL,
        aws_access_key_id=settings.AWS_ACCESS_KEY_ID,
        aws_secret_access_key=settings.AWS_SECRET_ACCESS_KEY,
    )
    return instrument_client(client)


def scan_all(client: Any, table: str, *, filter_expression: str, names: dict, values: dict) -> list[dict]:
    """Every item of the table that passes the filter: DynamoDB reads the whole table to find them."""
    items: list[dict] = []
    request = {
        "TableName": table,
        "FilterExpression": filter_expression,
        "ExpressionAttributeNames": names,
        "ExpressionAttributeValues": values,
    }
    while True:
        response = client.scan(**request)
        items.extend(response.get("Items", []))
        if "LastEvaluatedKey" not in response:
            return items
        request["ExclusiveStartKey"] = response["LastEvaluatedKey"]


def get_item(client: Any, model: type, key: str) -> dict | None:
    key_name = model._hash_key_attribute().attr_name
    return client.get_item(TableName=model.Meta.table_name, Key={key_name: {"S": key}}).get("Item")


def course_or_404(client: Any, course_id: str) -> Course:
    item = get_item(client, Course, course_id)
    if item is None:
        raise NotFoundError("Course not found.", code="course_not_found")
    return Course.from_raw_data(item)


def paginate(items: list[Any], *, limit: int, cursor: str | None) -> tuple[list[Any], str | None]:
    """Offset pagination over the filtered items (the old API's cursor was an encoded offset)."""
    offset = 0
    if cursor:
        try:
            offset = int(base64.urlsafe_b64decode(cursor.encode()).decode())
        except (ValueError, UnicodeError):
            raise InvalidInputError(
                "This cursor is not valid for this list.", code="invalid_cursor", field="cursor"
            ) from None
    page = items[offset : offset + limit]
    more = offset + limit < len(items)
    return page, base64.urlsafe_b64encode(str(offset + limit).encode()).decode() if more else None


def page_response(results: list[dict], next_cursor: str | None) -> Response:
    return Response({"results": results, "next_cursor": next_cursor})


class CourseListView(APIView):
    def get(self, request: Request) -> Response:
        query = CourseListQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        client = new_client()
        if params.get("instructor_id"):
            filter_expression, names = "#i = :i", {"#i": "instructor_id"}
            values = {":i": {"S": params["instructor_id"]}}
        elif params.get("semester_id") is not None:
            filter_expression, names = "#s = :s", {"#s": "semester_id"}
            values = {":s": {"N": str(params["semester_id"])}}
            if params.get("department_id") is not None:
                filter_expression += " AND #d = :d"
                names["#d"] = "department_id"
                values[":d"] = {"N": str(params["department_id"])}
        else:
            raise InvalidInputError(
                "Filter by semester_id (optionally with department_id) or by instructor_id.", code="filter_required"
            )
        items = scan_all(
            client, Course.Meta.table_name, filter_expression=filter_expression, names=names, values=values
        )
        courses = sorted(
            (Course.from_raw_data(item) for item in items),
            key=lambda course: (int(course.department_id), course.course_code, course.course_id),
        )
        page, next_cursor = paginate(courses, limit=params["limit"], cursor=params.get("cursor"))
        return page_response(CourseSerializer(page, many=True).data, next_cursor)


class CourseDetailView(APIView):
    def get(self, request: Request, course_id: str) -> Response:
        return Response(CourseSerializer(course_or_404(new_client(), course_id)).data)

    def patch(self, request: Request, course_id: str) -> Response:
        serializer = CourseUpdateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        client = new_client()
        course = course_or_404(client, course_id)
        ensure_can_manage(request.user, instructor_id=course.instructor_id)
        changes = {**serializer.validated_data, "updated_at": timezone.now()}
        names, values, assignments = {}, {":one": {"N": "1"}, ":zero": {"N": "0"}}, []
        for position, (name, value) in enumerate(changes.items()):
            attribute = Course.get_attributes()[name]
            names[f"#a{position}"] = name
            values[f":v{position}"] = {attribute.attr_type: attribute.serialize(value)}
            assignments.append(f"#a{position} = :v{position}")
        names["#rev"] = "revision"
        assignments.append("#rev = if_not_exists(#rev, :zero) + :one")
        condition = "attribute_exists(course_id)"
        if "capacity" in changes:
            names["#enrolled"] = "enrolled_count"
            condition += f" AND #enrolled <= :v{list(changes).index('capacity')}"
        try:
            response = client.update_item(
                TableName=Course.Meta.table_name,
                Key={"course_id": {"S": course_id}},
                UpdateExpression="SET " + ", ".join(assignments),
                ConditionExpression=condition,
                ExpressionAttributeNames=names,
                ExpressionAttributeValues=values,
                ReturnValues="ALL_NEW",
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConflictError("Capacity is below the enrolled count.", code="capacity_below_enrolled") from None
            raise
        return Response(CourseSerializer(Course.from_raw_data(response["Attributes"])).data)


class RosterView(APIView):
    def get(self, request: Request, course_id: str) -> Response:
        query = PageQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        client = new_client()
        course = course_or_404(client, course_id)
        ensure_can_manage(request.user, instructor_id=course.instructor_id)
        items = scan_all(
            client,
            Enrollment.Meta.table_name,
            filter_expression="#c = :c AND #st = :enrolled",
            names={"#c": "course_id", "#st": "status"},
            values={":c": {"S": course_id}, ":enrolled": {"S": EnrollmentStatus.ENROLLED.value}},
        )
        enrollments = sorted((Enrollment.from_raw_data(item) for item in items), key=lambda item: item.enrolled_at)
        page, next_cursor = paginate(
            enrollments, limit=query.validated_data["limit"], cursor=query.validated_data.get("cursor")
        )
        entries = []
        for enrollment in page:
            entry = EnrollmentSerializer(enrollment).data
            student = get_item(client, User, enrollment.user_id)  # one read per row
            entry["student"] = (
                {
                    key: value
                    for key, value in user_profile(User.from_raw_data(student)).items()
                    if key in ("user_id", "name", "email")
                }
                if student
                else None
            )
            entries.append(RosterEntrySerializer(entry).data)
        return page_response(entries, next_cursor)


class MyEnrollmentsView(APIView):
    def get(self, request: Request) -> Response:
        query = MyEnrollmentsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        params = query.validated_data
        client = new_client()
        filter_expression, names = "#u = :u", {"#u": "user_id"}
        values: dict[str, Any] = {":u": {"S": request.user.user_id}}
        if params.get("semester_id") is not None:
            filter_expression += " AND #s = :s"
            names["#s"] = "semester_id"
            values[":s"] = {"N": str(params["semester_id"])}
        if params.get("status"):
            filter_expression += " AND #st = :st"
            names["#st"] = "status"
            values[":st"] = {"S": params["status"]}
        items = scan_all(
            client, Enrollment.Meta.table_name, filter_expression=filter_expression, names=names, values=values
        )
        enrollments = sorted(
            (Enrollment.from_raw_data(item) for item in items), key=lambda item: item.enrolled_at, reverse=True
        )
        page, next_cursor = paginate(
            enrollments, limit=min(params["limit"], MAX_PAGE_SIZE), cursor=params.get("cursor")
        )
        entries = []
        for enrollment in page:
            entry = EnrollmentSerializer(enrollment).data
            course = get_item(client, Course, enrollment.course_id)  # one read per row
            entry["course"] = CourseSerializer(Course.from_raw_data(course)).data if course else None
            entries.append(EnrollmentWithCourseSerializer(entry).data)
        return page_response(entries, next_cursor)


class EnrollView(APIView):
    def post(self, request: Request) -> Response:
        serializer = EnrollSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not request.user.is_student:
            raise PermissionDeniedError("Only students can enroll in courses.")
        course_id = serializer.validated_data["course_id"]
        client = new_client()
        course = course_or_404(client, course_id)
        now = timezone.now()
        enrollment = Enrollment(
            enrollment_id=enrollment_id_for(user_id=request.user.user_id, course_id=course_id),
            user_id=request.user.user_id,
            course_id=course_id,
            semester_id=int(course.semester_id),
            status=EnrollmentStatus.ENROLLED.value,
            enrolled_at=now,
            updated_at=now,
        )
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Put": {
                            "TableName": Enrollment.Meta.table_name,
                            "Item": enrollment.serialize(),
                            "ConditionExpression": "attribute_not_exists(enrollment_id) OR #st = :dropped",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": {":dropped": {"S": EnrollmentStatus.DROPPED.value}},
                        }
                    },
                    {
                        "Update": {
                            "TableName": Course.Meta.table_name,
                            "Key": {"course_id": {"S": course_id}},
                            "UpdateExpression": "SET #n = #n + :one, #rev = if_not_exists(#rev, :zero) + :one",
                            "ConditionExpression": "attribute_exists(course_id) AND #n < #cap",
                            "ExpressionAttributeNames": {
                                "#n": "enrolled_count",
                                "#cap": "capacity",
                                "#rev": "revision",
                            },
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            reasons = [reason.get("Code") for reason in error.response.get("CancellationReasons", [])]
            if reasons[:1] == ["ConditionalCheckFailed"]:
                existing = Enrollment.from_raw_data(get_item(client, Enrollment, enrollment.enrollment_id))
                return Response(EnrollmentSerializer(existing).data, status=status.HTTP_200_OK)
            if reasons[1:2] == ["ConditionalCheckFailed"]:
                raise ConflictError("This course is full.", code="course_full") from None
            if "TransactionConflict" in reasons:
                raise ConflictError("Too many concurrent changes; please retry.", code="transaction_conflict") from None
            raise
        student = User.from_raw_data(get_item(client, User, request.user.user_id))
        EmailMessage(
            subject=f"You are enrolled in {course.course_code}: {course.title}",
            body=f"Dear {student.name}, you are enrolled in {course.course_code}.",
            to=[student.email],
            connection=SlowSMTPEmailBackend(),
        ).send()
        return Response(EnrollmentSerializer(enrollment).data, status=status.HTTP_201_CREATED)


class DropView(APIView):
    def delete(self, request: Request, course_id: str) -> Response:
        client = new_client()
        enrollment_id = enrollment_id_for(user_id=request.user.user_id, course_id=course_id)
        try:
            client.transact_write_items(
                TransactItems=[
                    {
                        "Update": {
                            "TableName": Enrollment.Meta.table_name,
                            "Key": {"enrollment_id": {"S": enrollment_id}},
                            "UpdateExpression": "SET #st = :dropped, dropped_at = :now, updated_at = :now",
                            "ConditionExpression": "#st = :enrolled",
                            "ExpressionAttributeNames": {"#st": "status"},
                            "ExpressionAttributeValues": {
                                ":dropped": {"S": EnrollmentStatus.DROPPED.value},
                                ":enrolled": {"S": EnrollmentStatus.ENROLLED.value},
                                ":now": {"S": Enrollment.updated_at.serialize(timezone.now())},
                            },
                        }
                    },
                    {
                        "Update": {
                            "TableName": Course.Meta.table_name,
                            "Key": {"course_id": {"S": course_id}},
                            "UpdateExpression": "SET #n = #n - :one, #rev = if_not_exists(#rev, :zero) + :one",
                            "ConditionExpression": "attribute_exists(course_id) AND #n > :zero",
                            "ExpressionAttributeNames": {"#n": "enrolled_count", "#rev": "revision"},
                            "ExpressionAttributeValues": {":one": {"N": "1"}, ":zero": {"N": "0"}},
                        }
                    },
                ]
            )
        except ClientError as error:
            if error.response["Error"]["Code"] == "TransactionCanceledException":
                raise NotFoundError("You have no enrollment in this course.", code="not_enrolled") from None
            raise
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    def get(self, request: Request) -> Response:
        item = get_item(new_client(), User, request.user.user_id)
        if item is None:
            raise NotFoundError("User not found.", code="user_not_found")
        return Response(ProfileSerializer(user_profile(User.from_raw_data(item))).data)
