"""The course form's meetings and prerequisites in the admin: text a person types (one meeting a line,
codes separated by commas), parsed into the API's shape and validated by the API's serializer, with
messages that say which line or code is wrong; and the course's counts as the admin's pages show them."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from django import forms

from courseproject.adminsite.forms import error_messages
from courses.models import Course
from courses.serializers import MAX_MEETINGS, MAX_PREREQUISITES, CourseUpdateSerializer

# "MON WED 09:00-10:15": the days, then start and end; spaces around the dash and commas between days are fine.
MEETING_LINE = re.compile(r"(?P<days>[A-Za-z][A-Za-z ,]*?)\s+(?P<start>[^\s-]+)\s*-\s*(?P<end>[^\s-]+)")
DAY_SEPARATORS = re.compile(r"[\s,]+")
CODE_SEPARATORS = re.compile(r"[,;\n]+")
# Far more than the most meetings or codes the API takes, so the API's own limit is what a person reads.
MAX_TEXT_LENGTH = 2000


def meetings_as_text(meetings: list[dict[str, Any]], *, separator: str = "\n") -> str:
    return separator.join(f"{' '.join(meeting['days'])} {meeting['start']}-{meeting['end']}" for meeting in meetings)


def prerequisites_as_text(prerequisites: list[str]) -> str:
    return ", ".join(prerequisites)


def waitlist_as_text(course: Course) -> str:
    """Who waits of how many may, like "3 of 20"; a waitlist closed (capacity 0) says so."""
    waiting, capacity = int(course.waitlisted_count or 0), int(course.waitlist_capacity)
    if capacity == 0:
        return f"{waiting}, closed to new students (capacity 0)" if waiting else "none (capacity 0)"
    return f"{waiting} of {capacity}"


def _validated_by_api(field: str, value: list[Any], *, item_label: Callable[[int], str]) -> list[Any]:
    serializer = CourseUpdateSerializer(data={field: value})
    if not serializer.is_valid():
        raise forms.ValidationError(error_messages(serializer.errors[field], item_label=item_label))
    return serializer.validated_data[field]


class MeetingsTextField(forms.CharField):
    """Cleans to the API's list of {days, start, end}."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            max_length=MAX_TEXT_LENGTH,
            widget=forms.Textarea(attrs={"class": "vLargeTextField", "rows": 4}),
            help_text=f"One meeting a line: the days, then start-end on the 24-hour clock, like "
            f"<code>MON WED 09:00-10:15</code>, in the university's local time. At most {MAX_MEETINGS}.",
            **kwargs,
        )

    def clean(self, value: Any) -> list[dict[str, Any]]:
        text = super().clean(value)
        lines = [(number, line.strip()) for number, line in enumerate(text.splitlines(), start=1) if line.strip()]
        meetings, unreadable = [], []
        for number, line in lines:
            match = MEETING_LINE.fullmatch(line)
            if match is None:
                unreadable.append(f"Line {number}: write the days, then start-end, like MON WED 09:00-10:15.")
                continue
            days = DAY_SEPARATORS.split(match["days"].strip(" ,").upper())
            meetings.append({"days": days, "start": match["start"], "end": match["end"]})
        if unreadable:
            raise forms.ValidationError(unreadable)
        return _validated_by_api("meetings", meetings, item_label=lambda index: f"Line {lines[index][0]}")


class PrerequisitesTextField(forms.CharField):
    """Cleans to the API's list of course codes (upper case, each once)."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(
            required=False,
            max_length=MAX_TEXT_LENGTH,
            help_text="Course codes separated by commas, like <code>CS 101, MATH 200</code>: each completed, or "
            f"enrolled in, in an earlier semester. At most {MAX_PREREQUISITES}.",
            **kwargs,
        )

    def clean(self, value: Any) -> list[str]:
        codes = [code.strip() for code in CODE_SEPARATORS.split(super().clean(value)) if code.strip()]
        return _validated_by_api("prerequisites", codes, item_label=lambda index: codes[index])
