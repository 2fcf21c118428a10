"""The course list's fast query parsing (of the raw query string) agrees with
CourseListQuerySerializer, or defers to it."""

from __future__ import annotations

import pytest
from django.http import QueryDict

from courses.serializers import CourseListQuerySerializer
from courses.views import plain_semester_query

QUERIES = [
    "semester_id=20261",
    "semester_id=20261&department_id=7",
    "semester_id=20261&department_id=7&limit=100",
    "semester_id=999999&department_id=9999&limit=1",
    "department_id=3&semester_id=20261",
    # Everything below must go to the serializer (some valid, some 400s).
    "semester_id=1&semester_id=20262",
    "semester_id=20261&",
    "&semester_id=20261",
    "semester%5Fid=20261",
    "semester_id=2026%31",
    "semester_id=20261&format=json",
    "semester_id",
    "semester_id=0",
    "semester_id=-4",
    "semester_id=007",
    "semester_id=5.0",
    "semester_id=%205",
    "semester_id=1000000",
    "semester_id=20261&department_id=10000",
    "semester_id=20261&limit=101",
    "semester_id=20261&limit=0",
    "semester_id=20261&department_id=",
    "semester_id=20261&cursor=abc",
    "semester_id=20261&instructor_id=x",
    "semester_id=20261&unknown=1",
    "department_id=4",
    "limit=5",
    "",
]


@pytest.mark.parametrize("query", QUERIES)
def test_plain_queries_parse_as_the_serializer_would_and_others_defer_to_it(query: str) -> None:
    fast = plain_semester_query(query)
    if fast is None:
        return
    serializer = CourseListQuerySerializer(data=QueryDict(query))
    assert serializer.is_valid(), serializer.errors
    assert fast == dict(serializer.validated_data)


def test_only_plain_numbers_in_range_take_the_fast_path() -> None:
    taken = [query for query in QUERIES if plain_semester_query(query) is not None]
    assert taken == QUERIES[:5]
