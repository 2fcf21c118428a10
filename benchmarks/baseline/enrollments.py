"""The "before" rosters and my enrollments (Scans, then a GetItem per row), and enroll and drop,
whose transactions keep the product's conditions; an enroll sends its email inline."""

from __future__ import annotations

import time
from typing import Any

from botocore.exceptions import ClientError
from django.conf import settings
from django.core.mail import EmailMessage
from django.core.mail.backends.base import BaseEmailBackend
from django.utils import timezone
from rest_framework import status
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts.models import User
from accounts.serializers import user_profile
from benchmarks.baseline.dynamodb import course_or_404, get_item, new_client, scan_all
from benchmarks.baseline.pagination import page_response, paginate
from courseproject.api.errors import ConflictError, NotFoundError, PermissionDeniedError
from courseproject.api.pagination import MAX_PAGE_SIZE
from courseproject.api.schema import PageQuerySerializer
from courses.models import Course
from courses.permissions import ensure_can_manage
from courses.serializers import CourseSerializer
from enrollments.models import Enrollment, EnrollmentStatus, enrollment_id_for
from enrollments.serializers import (
    EnrollmentSerializer,
    EnrollmentWithCourseSerializer,
    EnrollSerializer,
    MyEnrollmentsQuerySerializer,
    RosterEntrySerializer,
)


class SlowSMTPEmailBackend(BaseEmailBackend):
    """Stands in for an SMTP server: each message takes BASELINE_EMAIL_SECONDS, then is dropped."""

    def send_messages(self, email_messages: list[EmailMessage]) -> int:
        for _ in email_messages:
            time.sleep(settings.BASELINE_EMAIL_SECONDS)
        return len(email_messages)


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
