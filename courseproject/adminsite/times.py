"""Times in the admin: shown and typed in the university's zone (UNIVERSITY_TIME_ZONE, daylight
saving included), stored in UTC. The API speaks UTC only; a registrar thinks on the campus clock,
and "registration opens at 9:00" must mean 9:00 there in March and in November alike."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from django import forms
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.functional import lazy

EXAMPLE = "2026-03-02 09:00"


def university_zone() -> ZoneInfo:
    return ZoneInfo(settings.UNIVERSITY_TIME_ZONE)  # zoneinfo keeps one instance per zone


def editable_text(moment: datetime) -> str:
    """An instant on the university's clock, as it is typed back: seconds and microseconds only when
    set, never dropped, so saving an unchanged form keeps the same instant."""
    local = moment.astimezone(university_zone())
    text = local.strftime("%Y-%m-%d %H:%M")
    if local.second or local.microsecond:
        text += local.strftime(":%S")
    if local.microsecond:
        text += local.strftime(".%f")
    return text


def university_time(moment: datetime | str | None) -> str:
    """The campus clock and the zone's abbreviation at that instant, like 2026-03-02 09:00 EST; an
    instant may come as ISO 8601 text, as the API's error bodies carry it."""
    if moment is None or moment == "":
        return "-"
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    return f"{editable_text(moment)} {moment.astimezone(university_zone()).tzname()}"


def _offset(moment: datetime) -> str:
    return moment.isoformat()[-6:]  # "-05:00"


def _zone_help() -> str:
    return (
        f"University time ({settings.UNIVERSITY_TIME_ZONE}), like {EXAMPLE}. "
        "A time with a UTC offset (Z, +01:00) is taken as given. Stored in UTC."
    )


# Read when the form is shown, not when this module is imported: the zone is a setting.
zone_help = lazy(_zone_help, str)


class UniversityDateTimeField(forms.Field):
    """A date and time on the university's clock, or with an explicit offset; cleaned to UTC. A
    local time the clocks skip (spring forward) or pass twice (fall back) is refused with a message,
    as Django's own admin does, rather than guessed."""

    default_error_messages = {
        "invalid": f"Enter a date and time, like {EXAMPLE}.",
        "skipped": "%(value)s does not exist in %(zone)s: the clocks skip it when daylight saving time begins.",
        "ambiguous": "%(value)s happens twice in %(zone)s (the clocks go back): give its offset, "
        "%(first)s or %(second)s.",
    }

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("help_text", zone_help())
        kwargs.setdefault("widget", forms.TextInput(attrs={"class": "vTextField", "placeholder": EXAMPLE}))
        super().__init__(**kwargs)

    def prepare_value(self, value: Any) -> Any:
        return editable_text(value) if isinstance(value, datetime) else value

    def to_python(self, value: Any) -> datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
        except ValueError:  # the shape of a date, but not a real one (2026-02-30)
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        try:
            aware = parsed if parsed.tzinfo is not None else self._on_the_campus_clock(parsed)
            return aware.astimezone(UTC)
        except OverflowError:  # the first or last instants Python can hold, shifted out of range
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid") from None

    def _on_the_campus_clock(self, naive: datetime) -> datetime:
        zone = university_zone()
        first, second = naive.replace(tzinfo=zone, fold=0), naive.replace(tzinfo=zone, fold=1)
        shown = naive.strftime("%Y-%m-%d %H:%M")
        params = {"value": shown, "zone": zone.key}
        if first.astimezone(UTC).astimezone(zone).replace(tzinfo=None) != naive:
            raise forms.ValidationError(self.error_messages["skipped"], code="skipped", params=params)
        if first.utcoffset() != second.utcoffset():
            raise forms.ValidationError(
                self.error_messages["ambiguous"],
                code="ambiguous",
                params={**params, "first": shown + _offset(first), "second": shown + _offset(second)},
            )
        return first


class UniversityTimeZoneMiddleware:
    """Admin pages render every time in the university's zone (Django's templates convert to the
    active zone); the API, which has its own paths, keeps UTC."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith("/admin/"):
            return self.get_response(request)
        timezone.activate(university_zone())
        try:
            return self.get_response(request)
        finally:
            timezone.deactivate()
