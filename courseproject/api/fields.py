"""Input fields shared by the apps' serializers: strict about types, and about what DynamoDB can store."""

from datetime import UTC, datetime

from django.utils.dateparse import parse_datetime
from rest_framework import serializers

from courseproject.ids import ID_PATTERN


class TextField(serializers.CharField):
    """A CharField that takes only JSON strings (DRF would turn 5 or true into text) and refuses
    control characters."""

    default_error_messages = {
        "not_a_string": "Must be a string.",
        "control_characters": "Control characters are not allowed.",
    }

    def __init__(self, *, multiline: bool = False, **kwargs) -> None:
        self.multiline = multiline
        super().__init__(**kwargs)

    def to_internal_value(self, data: object) -> str:
        if not isinstance(data, str):
            self.fail("not_a_string")
        value = super().to_internal_value(data)
        allowed = {"\n", "\r", "\t"} if self.multiline else set()
        if any((ord(character) < 32 and character not in allowed) or ord(character) == 127 for character in value):
            self.fail("control_characters")
        return value


class BoundedListField(serializers.ListField):
    """A ListField that refuses a list longer than `max_length` before looking at any item: ten
    thousand items cost one length check and one message, not ten thousand of each."""

    def to_internal_value(self, data: object) -> list:
        if isinstance(data, list) and self.max_length is not None and len(data) > self.max_length:
            self.fail("max_length", max_length=self.max_length)
        return super().to_internal_value(data)


class IdField(TextField):
    """A user or course id: what the URL patterns accept, so an id from a body can be used in a path."""

    default_error_messages = {"invalid_id": "Not a valid id."}

    def __init__(self, **kwargs) -> None:
        super().__init__(max_length=64, **kwargs)

    def to_internal_value(self, data: object) -> str:
        value = super().to_internal_value(data)
        if not ID_PATTERN.fullmatch(value):
            self.fail("invalid_id")
        return value


class AwareDateTimeField(serializers.DateTimeField):
    """An instant in ISO 8601 that says which zone it is in (2026-11-30T14:00:00Z, or +01:00): a
    deadline without an offset would mean a different instant on every server. Stored and returned
    in UTC."""

    default_error_messages = {
        "not_a_string": "Must be a string.",
        "no_offset": "Give the time with its UTC offset, like 2026-11-30T14:00:00Z or 2026-11-30T15:00:00+01:00.",
    }

    def to_internal_value(self, value: object) -> datetime:
        if not isinstance(value, str):
            self.fail("not_a_string")
        try:
            parsed = parse_datetime(value)
        except ValueError:
            parsed = None
        if parsed is None:
            self.fail("invalid", format="ISO 8601")
        if parsed.tzinfo is None or parsed.utcoffset() is None:
            self.fail("no_offset")
        try:
            return parsed.astimezone(UTC)
        except OverflowError:  # 9999-12-31T23:00-05:00 is past the last instant Python can hold
            self.fail("invalid", format="ISO 8601")
