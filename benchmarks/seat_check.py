"""After a rush: for each course id on the command line, the seat counter (a consistent read) against
the active enrollment records. Prints one JSON object; run with benchmarks.settings.

    python -m benchmarks.seat_check COURSE_ID [COURSE_ID ...]
"""

from __future__ import annotations

import os
import sys

import orjson

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "benchmarks.settings")
import django

django.setup()

from courses.models import Course  # noqa: E402
from enrollments.models import Enrollment, EnrollmentStatus  # noqa: E402


def main(course_ids: list[str]) -> None:
    courses = []
    for course_id in course_ids:
        course = Course.get(course_id, consistent_read=True)
        # The roster index; read after the run has settled, and DynamoDB Local's indexes are synchronous.
        active = sum(
            1
            for _ in Enrollment.by_course.query(
                course_id, filter_condition=Enrollment.status == EnrollmentStatus.ENROLLED.value
            )
        )
        courses.append(
            {
                "course_id": course_id,
                "capacity": int(course.capacity),
                "enrolled_count": int(course.enrolled_count),
                "active_enrollments": active,
            }
        )
    # Oversold means more students hold a seat than the course has, whatever the counter says.
    oversold = [
        course
        for course in courses
        if course["active_enrollments"] > course["capacity"] or course["enrolled_count"] > course["capacity"]
    ]
    mismatched = [course for course in courses if course["enrolled_count"] != course["active_enrollments"]]
    full = [course for course in courses if course["enrolled_count"] == course["capacity"]]
    sys.stdout.write(
        orjson.dumps(
            {
                "courses": courses,
                "oversold": len(oversold),
                "counter_mismatches": len(mismatched),
                "full": len(full),
                "ok": not oversold and not mismatched,
            }
        ).decode()
    )


if __name__ == "__main__":
    main(sys.argv[1:])
