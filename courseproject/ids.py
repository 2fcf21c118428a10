"""The shapes of identifiers, each rule in one place and none needing Django (settings, the demo data,
the admin and the benchmark runner use them too).

Record ids (users, courses) are what the URL patterns accept: short and URL-safe, so a path or a
body can never carry an oversized DynamoDB key. Ids this system generates are UUID4s in hex.

Semester ids are year * 10 + term, with terms 1 (spring), 2 (summer) and 3 (fall): 20263 is fall
2026. Semesters follow each other 20261, 20262, 20263, 20271, ...
"""

from __future__ import annotations

import re
import uuid
from datetime import date

ID_REGEX = r"[A-Za-z0-9_-]{1,64}"
ID_PATTERN = re.compile(ID_REGEX)
GENERATED_ID_PATTERN = re.compile(r"[0-9a-f]{32}")

TERMS_PER_YEAR = 3
# The largest semester id the API accepts (a year of five digits and a term).
MAX_SEMESTER_ID = 999_999
# The smallest a new semester may have: spring of the year 1000 (a year of four digits and a term).
MIN_SEMESTER_ID = 10_001


def new_id() -> str:
    return uuid.uuid4().hex


def semester_of(day: date) -> int:
    """The semester a date falls in: spring to May, summer to August, fall to December."""
    return day.year * 10 + (1 if day.month <= 5 else 2 if day.month <= 8 else 3)


# The month each term starts in; a term runs until the next one starts.
TERM_START_MONTHS = {1: 1, 2: 6, 3: 9}
TERM_NAMES = {1: "Spring", 2: "Summer", 3: "Fall"}


def is_semester_id(value: int) -> bool:
    """A year of four or five digits and a term: 20263 is one, 20264 and 263 are not."""
    return MIN_SEMESTER_ID <= value <= MAX_SEMESTER_ID and value % 10 in TERM_NAMES


def semester_name(semester_id: int) -> str:
    """Fall 2026 for 20263."""
    year, term = divmod(_from_ordinal(_ordinal(semester_id)), 10)
    return f"{TERM_NAMES[term]} {year}"


def term_start(semester_id: int) -> date:
    """The first day of a semester by the calendar of semester_of (fall 2026 starts 1 September 2026)."""
    year, term = divmod(_from_ordinal(_ordinal(semester_id)), 10)
    return date(year, TERM_START_MONTHS[term], 1)


def _ordinal(semester_id: int) -> int:
    year, term = divmod(semester_id, 10)
    return year * TERMS_PER_YEAR + min(max(term, 1), TERMS_PER_YEAR) - 1


def _from_ordinal(ordinal: int) -> int:
    year, term_index = divmod(ordinal, TERMS_PER_YEAR)
    return year * 10 + term_index + 1


def consecutive_semesters(first: int, count: int) -> list[int]:
    """`count` semesters in order from `first`: consecutive_semesters(20262, 3) is [20262, 20263, 20271]."""
    start = _ordinal(first)
    return [_from_ordinal(ordinal) for ordinal in range(start, start + count)]


def neighbouring_semesters(center: int, *, before: int, after: int) -> list[int]:
    """The semesters from `before` ahead of `center` to `after` behind it, in order."""
    return consecutive_semesters(_from_ordinal(_ordinal(center) - before), before + after + 1)
