"""Reads of semesters: the API's through the cache; the enroll path reads its semester with the
student's records in one consistent BatchGetItem (enrollments/services.py), never from the cache,
so a rule an admin just changed applies to the very next enroll."""

from __future__ import annotations

from datetime import datetime

from courseproject.api.errors import NotFoundError
from courseproject.api.pagination import Page, query_page
from courseproject.api.rendering import dumps
from courseproject.caching import keys
from courseproject.caching.entities import cached_entity
from courseproject.caching.pages import cached_page
from semesters.models import CATALOG, Semester, SemestersNewestFirst
from semesters.serializers import semester_representation


def semester_by_id(*, semester_id: int) -> Semester | None:
    try:
        return Semester.get(semester_id, consistent_read=True)
    except Semester.DoesNotExist:
        return None


def semester_or_404(*, semester_id: int) -> Semester:
    semester = semester_by_id(semester_id=semester_id)
    if semester is None:
        raise NotFoundError("No semester has this id.", code="semester_not_found")
    return semester


def _load_semester_entity(semester_id: int) -> tuple[int, bytes] | None:
    semester = semester_by_id(semester_id=semester_id)
    if semester is None:
        return None
    return int(semester.revision), dumps(semester_representation(semester))


def semester_detail_json(*, semester_id: int) -> bytes:
    payload, _ = cached_entity(keys.semester(semester_id), load=lambda: _load_semester_entity(semester_id))
    if payload is None:
        raise NotFoundError("No semester has this id.", code="semester_not_found")
    return payload


def semesters_newest_first(*, limit: int, cursor: str | None, up_to: int | None = None) -> Page[Semester]:
    """A page of semesters, newest first; from `up_to` and older when given (the admin jumps to a year)."""
    return query_page(
        Semester.newest_first,
        CATALOG,
        # A cursor belongs to its list: the whole one, or the one from `up_to` on.
        scope="semesters" if up_to is None else f"semesters:up-to:{up_to}",
        limit=limit,
        cursor=cursor,
        range_key_condition=None if up_to is None else SemestersNewestFirst.semester_id <= up_to,
        newest_first=True,
    )


def semester_list_json(*, limit: int, cursor: str | None) -> bytes:
    page_json, _ = cached_page(
        keys.semester_list(limit=limit, cursor=cursor),
        generation_key=keys.semester_list_generation(),
        load=lambda: dumps(
            semesters_newest_first(limit=limit, cursor=cursor)
            .map(lambda semesters: [semester_representation(semester) for semester in semesters])
            .as_response()
        ),
    )
    return page_json


def semesters_opening_after(*, after: datetime) -> list[Semester]:
    """Every semester whose registration opens after `after`, from the catalog index (one partition
    of tens of semesters); for the rush scaling schedule, never a request."""
    return list(
        Semester.newest_first.query(
            CATALOG, filter_condition=Semester.registration_opens_at > after, scan_index_forward=False
        )
    )
