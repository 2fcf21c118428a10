"""Path converters shared by the API and the admin."""

from django.urls import register_converter

from courseproject.ids import ID_REGEX


class IdConverter:
    """Ids in paths: short, URL-safe, so a path can never carry an oversized DynamoDB key."""

    regex = ID_REGEX

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


class SemesterConverter:
    """A semester id in a path: one to six digits (MAX_SEMESTER_ID), so it always fits the table's key."""

    regex = r"[0-9]{1,6}"

    def to_python(self, value: str) -> int:
        return int(value)

    def to_url(self, value: int) -> str:
        return str(value)


register_converter(IdConverter, "id")
register_converter(SemesterConverter, "semester")
