"""The registrar's completions CSV in the admin: a dry run that says what each row would do and
writes nothing, the import that applies it one small transaction per student, a second import that
changes nothing, and files refused as a whole (size, encoding, rows, CSV syntax)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile

from accounts.models import Role
from audit.models import TRANSCRIPT_RECORDED, AuditRecord, entity_key_for
from courseproject.api.errors import PermissionDeniedError
from enrollments import completion_import, completions
from enrollments import services as enrollment_services
from enrollments.completion_csv import MAX_ROWS, Outcome, parse_completions_csv
from enrollments.models import Enrollment, Transcript, enrollment_id_for
from tests.admin.helpers import ENROLLMENTS, messages_of, text
from tests.conftest import open_semester

IMPORT = f"{ENROLLMENTS}import-completions/"
# A semester over before the tests run: its drop deadline has passed.
OPENS_AT = datetime(2020, 1, 10, 14, 0, tzinfo=UTC)
DURING_REGISTRATION = OPENS_AT + timedelta(days=1)


def finished_semester() -> int:
    return open_semester(
        registration_opens_at=OPENS_AT,
        add_deadline=OPENS_AT + timedelta(days=20),
        drop_deadline=OPENS_AT + timedelta(days=40),
    )


def enroll_during_registration(person, course) -> None:
    with time_machine.travel(DURING_REGISTRATION, tick=False):
        enrollment_services.enroll(actor=person.actor, course_id=course.course_id)


def csv_file(*lines: str, prefix: bytes = b"") -> SimpleUploadedFile:
    return SimpleUploadedFile("completions.csv", prefix + "\r\n".join(lines).encode(), content_type="text/csv")


def post_file(admin_client, upload, *, apply: bool):
    return admin_client.post(IMPORT, {"file": upload, "_apply" if apply else "_check": "1"})


def outcomes(response) -> dict[int, str]:
    return {row.line: row.outcome.value for row in response.context["report"].rows}


def status_of(person, course) -> str:
    enrollment_id = enrollment_id_for(user_id=person.user_id, course_id=course.course_id)
    return Enrollment.get(enrollment_id, consistent_read=True).status


def transcript_records(person) -> list[dict]:
    """What the audit log keeps of courses entered into the student's transcript without an enrollment."""
    history = AuditRecord.by_entity.query(
        entity_key_for("user", person.user_id), filter_condition=AuditRecord.action == TRANSCRIPT_RECORDED
    )
    return [record.after for record in history]


def transcript_of(person) -> dict[str, str]:
    try:
        return Transcript.get(person.user_id, consistent_read=True).entries
    except Transcript.DoesNotExist:
        return {}


@pytest.fixture
def registrar_file(admin, make_person, make_course):
    """A file with one row of every kind, and the people and courses it names."""
    semester_id = finished_semester()
    taken = make_course(semester_id=semester_id, course_code="IMP 101")
    other = make_course(semester_id=semester_id, course_code="IMP 202")
    running = make_course(course_code="IMP 303")  # a semester open now: not over
    enrolled, never_enrolled, done, instructor = (
        make_person(),
        make_person(),
        make_person(),
        make_person(Role.INSTRUCTOR),
    )
    enroll_during_registration(enrolled, taken)
    enroll_during_registration(done, taken)
    completions.complete_course(actor=admin.actor, course_id=taken.course_id, user_ids=[done.user_id])
    lines = [
        "student email,course code,semester",  # 1: the header
        f"{enrolled.user.email},IMP 101,{semester_id}",  # 2: enrolled: completed
        f"{never_enrolled.user.email.upper()},imp 202,{semester_id}",  # 3: not enrolled: recorded
        f"{done.user.email},IMP 101,{semester_id}",  # 4: already completed
        f"nobody@example.edu,IMP 101,{semester_id}",  # 5
        f"{enrolled.user.email},NOPE 1,{semester_id}",  # 6
        f"{enrolled.user.email},IMP 101",  # 7: two columns
        f"{enrolled.user.email},IMP 101,{semester_id}",  # 8: same as line 2
        f"{instructor.user.email},IMP 101,{semester_id}",  # 9: not a student
        f"{enrolled.user.email},IMP 303,{running.semester_id}",  # 10: semester not over
        f"<script>alert(1)</script>@example.edu,IMP 101,{semester_id}",  # 11: unknown, shown escaped
        f"{enrolled.user.email},IMP 101,fall",  # 12: not a semester id
        "",  # blank lines are skipped
    ]
    return {
        "lines": lines,
        "semester_id": semester_id,
        "taken": taken,
        "other": other,
        "enrolled": enrolled,
        "never_enrolled": never_enrolled,
        "done": done,
    }


EXPECTED = {
    2: "completed",
    3: "recorded",
    4: "already_completed",
    5: "unknown_student",
    6: "unknown_course",
    7: "malformed",
    8: "duplicate",
    9: "unknown_student",
    10: "semester_not_over",
    11: "unknown_student",
    12: "malformed",
}


class TestDryRun:
    def test_says_what_each_row_would_do_and_writes_nothing(self, admin_client, registrar_file, dynamodb_calls):
        dynamodb_calls.clear()
        response = post_file(admin_client, csv_file(*registrar_file["lines"]), apply=False)
        assert response.status_code == 200
        assert outcomes(response) == EXPECTED
        page = text(response)
        assert "Dry run: nothing was written" in page
        assert "enrollment would be completed: 1" in page
        assert "Same as line 2." in page
        assert "Expected 3 columns" in page
        assert "&lt;script&gt;alert(1)&lt;/script&gt;@example.edu" in page
        assert "<script>alert(1)</script>" not in page
        assert status_of(registrar_file["enrolled"], registrar_file["taken"]) == "enrolled"
        assert transcript_of(registrar_file["never_enrolled"]) == {}
        assert dynamodb_calls.count("TransactWriteItems") == 0
        assert dynamodb_calls.count("PutItem") == dynamodb_calls.count("UpdateItem") == 0

    def test_accepts_a_byte_order_mark_and_no_header(self, admin_client, registrar_file):
        upload = csv_file(registrar_file["lines"][1], prefix="\ufeff".encode())
        response = post_file(admin_client, upload, apply=False)
        assert outcomes(response) == {1: "completed"}


class TestImport:
    def test_applies_one_transaction_per_student_and_a_second_import_changes_nothing(
        self, admin_client, registrar_file, dynamodb_calls
    ):
        taken, other, semester_id = registrar_file["taken"], registrar_file["other"], registrar_file["semester_id"]
        dynamodb_calls.clear()
        response = post_file(admin_client, csv_file(*registrar_file["lines"]), apply=True)
        assert outcomes(response) == EXPECTED
        assert "Imported" in text(response)
        assert any(message.startswith("Imported. enrollment completed: 1") for message in messages_of(response))
        # Two students change: two small transactions, not one for the file.
        assert dynamodb_calls.count("TransactWriteItems") == 2
        assert status_of(registrar_file["enrolled"], taken) == "completed"
        assert transcript_of(registrar_file["enrolled"])[f"IMP 101#{semester_id}"] == "completed"
        assert transcript_of(registrar_file["never_enrolled"]) == {f"{other.course_code}#{semester_id}": "completed"}
        # Not enrolled, so no enrollment's history has it: the student's own history does.
        recorded = {
            "source": "completion_import",
            "courses": [{"course_code": other.course_code, "semester_id": semester_id}],
        }
        assert transcript_records(registrar_file["never_enrolled"]) == [recorded]
        versions = {
            person: Transcript.get(registrar_file[person].user_id, consistent_read=True).version
            for person in ("enrolled", "never_enrolled")
        }

        dynamodb_calls.clear()
        again = post_file(admin_client, csv_file(*registrar_file["lines"]), apply=True)
        assert outcomes(again) == EXPECTED | {2: "already_completed", 3: "already_completed"}
        assert dynamodb_calls.count("TransactWriteItems") == 0
        assert {
            person: Transcript.get(registrar_file[person].user_id, consistent_read=True).version
            for person in ("enrolled", "never_enrolled")
        } == versions
        assert transcript_records(registrar_file["never_enrolled"]) == [recorded]

    def test_a_students_rows_are_split_into_transactions_of_bounded_size(
        self, admin_client, make_person, make_course, monkeypatch, dynamodb_calls
    ):
        monkeypatch.setattr(completion_import, "ROWS_PER_TRANSACTION", 2)
        semester_id = finished_semester()
        student = make_person()
        courses = [make_course(semester_id=semester_id, course_code=f"SPL {number}", credits=1) for number in range(5)]
        for course in courses:
            enroll_during_registration(student, course)
        lines = [f"{student.user.email},{course.course_code},{semester_id}" for course in courses]
        dynamodb_calls.clear()
        response = post_file(admin_client, csv_file(*lines), apply=True)
        assert set(outcomes(response).values()) == {"completed"}
        assert dynamodb_calls.count("TransactWriteItems") == 3
        assert {status_of(student, course) for course in courses} == {"completed"}
        assert len(transcript_of(student)) == 5

    def test_a_transcript_changed_meanwhile_is_read_again_not_overwritten(
        self, admin, make_person, make_course, monkeypatch
    ):
        semester_id = finished_semester()
        student = make_person()
        course = make_course(semester_id=semester_id)
        make_course(course_code="RACE 1")
        enroll_during_registration(student, course)
        commit = completion_import._commit_for_student
        raced = []

        def racing_commit(**kwargs):
            if not raced:  # another admin records transfer credit between the read and the write
                raced.append(True)
                completions.record_transfer_credit(actor=admin.actor, user_id=student.user_id, course_code="RACE 1")
            return commit(**kwargs)

        monkeypatch.setattr(completion_import, "_commit_for_student", racing_commit)
        rows = parse_completions_csv(f"{student.user.email},{course.course_code},{semester_id}".encode())
        report = completion_import.apply_import(actor=admin.actor, rows=rows)
        assert [row.outcome for row in report.rows] == [Outcome.COMPLETED]
        assert transcript_of(student) == {"RACE 1#0": "completed", f"{course.course_code}#{semester_id}": "completed"}
        assert status_of(student, course) == "completed"

    def test_only_admins_import(self, instructor):
        rows = parse_completions_csv(b"someone@example.edu,CS 1,20201")
        with pytest.raises(PermissionDeniedError, match="Only admins"):
            completion_import.apply_import(actor=instructor.actor, rows=rows)


class TestBadFiles:
    @pytest.mark.parametrize(
        ("content", "error"),
        [
            (b"caf\xe9@example.edu,CS 1,20201", "not UTF-8"),
            (b"x" * 1_000_001, "larger than 1,000,000 bytes"),
            ("".join(f"s{number}@example.edu,CS 1,20201\n" for number in range(MAX_ROWS + 1)).encode(), "more than"),
            (b'"an open quote,CS 1,20201\n', "is not valid CSV"),
            (b"student email,course code,semester\n\n", "has no rows"),
            (b"", "empty"),
        ],
        ids=["latin-1", "too-large", "too-many-rows", "open-quote", "header-only", "empty"],
    )
    def test_a_file_that_cannot_be_read_is_refused_on_the_field(self, admin_client, content, error, dynamodb_calls):
        dynamodb_calls.clear()
        upload = SimpleUploadedFile("completions.csv", content, content_type="text/csv")
        response = post_file(admin_client, upload, apply=True)
        assert response.status_code == 200
        assert error in str(response.context["form"].errors["file"])
        assert response.context["report"] is None
        assert dynamodb_calls.count("TransactWriteItems") == 0

    def test_exactly_the_row_limit_is_read(self):
        content = "".join(f"s{number}@example.edu,CS 1,20201\n" for number in range(MAX_ROWS)).encode()
        assert len(parse_completions_csv(content)) == MAX_ROWS

    def test_the_page_explains_the_columns(self, admin_client):
        page = text(admin_client.get(IMPORT))
        assert "student email, course code, semester" in page
        assert "Check (dry run)" in page
