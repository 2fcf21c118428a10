"""Reads of semesters, through the cache. The registration rules read theirs there too
(`semester_for_rules`): every semester write puts its new version in the cache before it returns
(semesters/signals.py), so a window or credit limit an admin just changed applies to the very next
enroll, and an enroll's consistent read of the student's records needs one item fewer."""

from __future__ import annotations

from datetime import datetime

import orjson

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


def semester_for_rules(*, semester_id: int) -> Semester | None:
    """The semester's registration window and credit limit as the rules read them, from its cached
    representation (None if it does not exist): the values the API shows, times in UTC to the
    microsecond (courseproject.api.rendering.isoformat)."""
    try:
        fields = orjson.loads(semester_detail_json(semester_id=semester_id))
    except NotFoundError:
        return None
    return Semester(
        int(fields["semester_id"]),
        name=fields["name"],
        registration_opens_at=datetime.fromisoformat(fields["registration_opens_at"]),
        add_deadline=datetime.fromisoformat(fields["add_deadline"]),
        drop_deadline=datetime.fromisoformat(fields["drop_deadline"]),
        credit_limit=int(fields["credit_limit"]),
    )


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
