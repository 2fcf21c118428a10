"""Path converters shared by the API and the admin."""

from django.urls import register_converter


class IdConverter:
    """Ids in paths: short, URL-safe, so a path can never carry an oversized DynamoDB key."""

    regex = r"[A-Za-z0-9_-]{1,64}"

    def to_python(self, value: str) -> str:
        return value

    def to_url(self, value: str) -> str:
        return value


register_converter(IdConverter, "id")
