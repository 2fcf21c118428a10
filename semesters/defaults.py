"""The rules a semester gets when nobody has set them (backfill_semesters): registration opens four
months before the term starts, students add until two weeks in and drop until eight weeks in, with
the default credit limit. The term starts by the calendar of courseproject/ids.py."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

from courseproject.ids import semester_name, term_start
from semesters.models import DEFAULT_CREDIT_LIMIT

OPENS_BEFORE_START = timedelta(days=120)
ADD_UNTIL_AFTER_START = timedelta(days=14)
DROP_UNTIL_AFTER_START = timedelta(days=56)


def default_rules(semester_id: int) -> dict[str, Any]:
    start = datetime.combine(term_start(semester_id), time(), tzinfo=UTC)
    return {
        "name": semester_name(semester_id),
        "registration_opens_at": start - OPENS_BEFORE_START,
        "add_deadline": start + ADD_UNTIL_AFTER_START,
        "drop_deadline": start + DROP_UNTIL_AFTER_START,
        "credit_limit": DEFAULT_CREDIT_LIMIT,
    }
