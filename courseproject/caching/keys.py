"""Every cache key the application uses, built here and only here.

A key is `<prefix>:<schema version>:<family>:<parts>`. Bumping SCHEMA_VERSION when a cached shape
changes makes a deploy start on fresh keys instead of reading values the new code cannot parse.
The family names the kind of value; hit and miss counters are kept per family.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from django.conf import settings

SCHEMA_VERSION = "v5"

# Families of values, each with a TTL (seconds) from settings.CACHE_TTLS.
COURSE_DETAIL = "course_detail"
COURSE_SEATS = "course_seats"
COURSE_WAITLIST = "course_waitlist"
COURSE_LIST = "course_list"
INSTRUCTOR_COURSES = "instructor_courses"
MY_ENROLLMENTS = "my_enrollments"
ROSTER = "roster"
USER_PROFILE = "user_profile"
USER_AUTH = "user_auth"
SEMESTER = "semester"
SEMESTER_LIST = "semester_list"
FAMILIES = (
    COURSE_DETAIL,
    COURSE_SEATS,
    COURSE_WAITLIST,
    COURSE_LIST,
    INSTRUCTOR_COURSES,
    MY_ENROLLMENTS,
    ROSTER,
    USER_PROFILE,
    USER_AUTH,
    SEMESTER,
    SEMESTER_LIST,
)


@dataclass(frozen=True)
class CacheKey:
    family: str
    name: str

    @property
    def ttl(self) -> int:
        return settings.CACHE_TTLS[self.family]


def _key(*parts: object) -> str:
    return ":".join([settings.CACHE_KEY_PREFIX, SCHEMA_VERSION, *(str(part) for part in parts)])


def _digest(value: str | None) -> str:
    """Cursors are long signed strings; the key holds a digest (collisions are not a concern at 128 bits)."""
    if not value:
        return "first"
    return hashlib.blake2b(value.encode(), digest_size=16).hexdigest()


def _any(value: object | None) -> str:
    return "*" if value is None else str(value)


# --- Entities: written through by the services, filled on a miss by readers --------------------


def course_detail(course_id: str) -> CacheKey:
    """A course without its seat fields, which course_seats holds; a response splices the two."""
    return CacheKey(COURSE_DETAIL, _key("course", course_id))


def course_seats(course_id: str) -> CacheKey:
    return CacheKey(COURSE_SEATS, _key("seats", course_id))


def course_waitlist(course_id: str) -> CacheKey:
    """The user ids waiting for a course, in join order (students' positions are read from it)."""
    return CacheKey(COURSE_WAITLIST, _key("waitlist", course_id))


def user_profile(user_id: str) -> CacheKey:
    return CacheKey(USER_PROFILE, _key("user", user_id))


def user_auth(user_id: str) -> CacheKey:
    """What authentication checks on every request: token version, active flag, role, verification."""
    return CacheKey(USER_AUTH, _key("auth", user_id))


def semester(semester_id: int) -> CacheKey:
    return CacheKey(SEMESTER, _key("semester", semester_id))


# --- Lists: stamped with their family's generation; a write bumps the generation -------------


def copied_key_prefixes() -> list[str]:
    """The key families web processes keep local copies from (caching/local_copies.py): Redis
    broadcasts every change of a key with one of these prefixes to each of them. None is a prefix of
    another (Redis refuses overlapping prefixes)."""
    return [
        _key("course", ""),
        _key("seats", ""),
        _key("auth", ""),
        _key("courses", ""),
        _key("instructor-courses", ""),
        _key("gen", "courses", ""),
        _key("gen", "instructor-courses", ""),
        _key("enrollments", ""),
        _key("gen", "enrollments", ""),
        _key("copies-canary", ""),
    ]


def local_copy_canary(token: str) -> str:
    """A web process's canary (copy_canary.py): its changes prove Redis's messages reach the process."""
    return _key("copies-canary", token)


def course_list(*, semester_id: int, department_id: int | None, limit: int, cursor: str | None) -> CacheKey:
    """A page of course ids (courseproject/caching/id_pages.py); the courses are their own entries."""
    return CacheKey(COURSE_LIST, _key("courses", semester_id, _any(department_id), limit, _digest(cursor)))


def semester_list(*, limit: int, cursor: str | None) -> CacheKey:
    return CacheKey(SEMESTER_LIST, _key("semesters", limit, _digest(cursor)))


def semester_list_generation() -> str:
    return _key("gen", "semesters")


def course_list_generation(semester_id: int) -> str:
    return _key("gen", "courses", semester_id)


def instructor_courses(*, instructor_id: str, limit: int, cursor: str | None) -> CacheKey:
    return CacheKey(INSTRUCTOR_COURSES, _key("instructor-courses", instructor_id, limit, _digest(cursor)))


def instructor_courses_generation(instructor_id: str) -> str:
    return _key("gen", "instructor-courses", instructor_id)


def my_enrollments(
    *, user_id: str, semester_id: int | None, status: str | None, limit: int, cursor: str | None
) -> CacheKey:
    return CacheKey(
        MY_ENROLLMENTS, _key("enrollments", user_id, _any(semester_id), _any(status), limit, _digest(cursor))
    )


def my_enrollments_generation(user_id: str) -> str:
    return _key("gen", "enrollments", user_id)


def roster(*, course_id: str, status: str = "enrolled", limit: int, cursor: str | None) -> CacheKey:
    """A page of the course's enrolled students, or of its waitlist (status "waitlisted")."""
    return CacheKey(ROSTER, _key("roster", course_id, status, limit, _digest(cursor)))


def roster_generation(course_id: str) -> str:
    return _key("gen", "roster", course_id)


# --- Machinery ---------------------------------------------------------------------------------


def lock(key: CacheKey) -> str:
    return f"{key.name}:lock"


def hot_semesters() -> str:
    """Semesters browsed lately, scored by when (courses/warming.py keeps them warm)."""
    return _key("metrics", "hot-semesters")


def throttle_bucket(scope: str, ident: str) -> str:
    """A rate limit's token bucket (courseproject/throttling.py): one per scope and client address,
    user or email digest."""
    return _key("throttle", scope, ident)
