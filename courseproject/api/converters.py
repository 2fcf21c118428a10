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


register_converter(IdConverter, "id")
