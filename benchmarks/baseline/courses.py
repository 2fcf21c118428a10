"""The "before" course list (a Scan of the whole table for every page) and course detail and edit."""

from __future__ import annotations

from botocore.exceptions import ClientError
from django.utils import timezone
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from benchmarks.baseline.dynamodb import course_or_404, new_client, scan_all
from benchmarks.baseline.pagination import page_response, paginate
from courseproject.api.errors import ConflictError, InvalidInputError
from courses.models import Course
from courses.permissions import ensure_can_manage
from courses.serializers import CourseListQuerySerializer, CourseSerializer, CourseUpdateSerializer


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
