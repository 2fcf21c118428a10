"""After a rush: for each course id on the command line, the seat and waitlist counters (consistent
reads) against the records, and the waitlist's promotions: how long each freed seat stood free
before the waitlist took it, and whether any went around the queue or out of join order. Waits
(up to SETTLE_SECONDS) for promotions still under way first. Prints one JSON object; run with
benchmarks.settings.

    python -m benchmarks.seat_check COURSE_ID [COURSE_ID ...]
"""

from __future__ import annotations

import itertools
import os
import sys
import time
from collections import Counter
from typing import Any

import orjson

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
import django

django.setup()

from benchmarks.stats import percentile  # noqa: E402
from courses.models import Course  # noqa: E402
from enrollments.models import Enrollment, EnrollmentStatus  # noqa: E402

SETTLE_SECONDS = 30


def course_figures(course_id: str) -> dict[str, Any]:
    course = Course.get(course_id, consistent_read=True)
    # The roster index; read after the run has settled, and DynamoDB Local's indexes are synchronous.
    records = list(Enrollment.by_course.query(course_id))
    statuses = Counter(record.status for record in records)
    promoted = sorted((record for record in records if record.promoted_at is not None), key=lambda r: r.promoted_at)
    sequences = [int(record.waitlist_sequence) for record in promoted]
    waiting = [int(record.waitlist_sequence) for record in records if record.status == EnrollmentStatus.WAITLISTED]
    return {
        "course_id": course_id,
        "capacity": int(course.capacity),
        "enrolled_count": int(course.enrolled_count),
        "active_enrollments": statuses[EnrollmentStatus.ENROLLED],
        "waitlisted_count": int(course.waitlisted_count or 0),
        "waitlisted_records": statuses[EnrollmentStatus.WAITLISTED],
        "promotions": len(promoted),
        "skipped": statuses[EnrollmentStatus.WAITLIST_SKIPPED],
        # A promotion after a later joiner's, or while someone who joined earlier still waits.
        "out_of_order": sum(1 for earlier, later in itertools.pairwise(sequences) if later < earlier)
        + sum(1 for sequence in sequences if waiting and sequence > min(waiting)),
        "lags_ms": [
            (record.promoted_at - record.seat_freed_at).total_seconds() * 1000
            for record in promoted
            if record.seat_freed_at is not None
        ],
    }


def settled(figures: dict[str, Any]) -> bool:
    return figures["enrolled_count"] >= figures["capacity"] or figures["waitlisted_count"] == 0


def main(course_ids: list[str]) -> None:
    deadline = time.monotonic() + SETTLE_SECONDS
    while True:
        courses = [course_figures(course_id) for course_id in course_ids]
        if all(settled(course) for course in courses) or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    # Oversold means more students hold a seat than the course has, whatever the counter says.
    oversold = [
        course
        for course in courses
        if course["active_enrollments"] > course["capacity"] or course["enrolled_count"] > course["capacity"]
    ]
    mismatched = [
        course
        for course in courses
        if course["enrolled_count"] != course["active_enrollments"]
        or course["waitlisted_count"] != course["waitlisted_records"]
    ]
    full = [course for course in courses if course["enrolled_count"] == course["capacity"]]
    lags = [lag for course in courses for lag in course.pop("lags_ms")]
    sys.stdout.write(
        orjson.dumps(
            {
                "courses": courses,
                "oversold": len(oversold),
                "counter_mismatches": len(mismatched),
                "full": len(full),
                "unsettled": sum(1 for course in courses if not settled(course)),
                "waitlisted": sum(course["waitlisted_count"] for course in courses),
                "promotions": sum(course["promotions"] for course in courses),
                "skipped": sum(course["skipped"] for course in courses),
                "out_of_order": sum(course["out_of_order"] for course in courses),
                "promotion_lag_p50_ms": percentile(lags, 0.50) if lags else None,
                "promotion_lag_p99_ms": percentile(lags, 0.99) if lags else None,
                "promotion_lag_max_ms": max(lags) if lags else None,
                "ok": not oversold and not mismatched,
            }
        ).decode()
    )


if __name__ == "__main__":
    main(sys.argv[1:])
