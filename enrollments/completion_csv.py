"""The registrar's completions file (columns: student email, course code, semester), read into rows:
its size and encoding checked (UTF-8, with or without a byte order mark), an optional header and
blank lines skipped, each malformed row kept with its line number and what is wrong with it. What
each row does is decided by enrollments/completion_import.py.
"""

from __future__ import annotations

import csv
import io
from collections import Counter
from dataclasses import dataclass, field
from enum import StrEnum

from accounts.selectors import normalize_email
from courseproject.ids import MAX_SEMESTER_ID
from courses.models import Course
from courses.serializers import COURSE_CODE_PATTERN

MAX_FILE_BYTES = 1_000_000
MAX_ROWS = 5_000
COLUMNS = ("student email", "course code", "semester")
# A cell is shown back at most this long (escaped by the template, like every value).
SHOWN_CELL_LENGTH = 80


class Outcome(StrEnum):
    COMPLETED = "completed"
    RECORDED = "recorded"
    ALREADY_COMPLETED = "already_completed"
    UNKNOWN_STUDENT = "unknown_student"
    UNKNOWN_COURSE = "unknown_course"
    SEMESTER_NOT_OVER = "semester_not_over"
    DUPLICATE = "duplicate"
    MALFORMED = "malformed"


# What a row did (applied) or would do (dry run).
OUTCOME_LABELS = {
    Outcome.COMPLETED: ("enrollment completed", "enrollment would be completed"),
    Outcome.RECORDED: ("not enrolled: recorded in the transcript", "not enrolled: would be recorded in the transcript"),
    Outcome.ALREADY_COMPLETED: ("already completed", "already completed"),
    Outcome.UNKNOWN_STUDENT: ("unknown student", "unknown student"),
    Outcome.UNKNOWN_COURSE: ("unknown course", "unknown course"),
    Outcome.SEMESTER_NOT_OVER: ("semester not over", "semester not over"),
    Outcome.DUPLICATE: ("duplicate row", "duplicate row"),
    Outcome.MALFORMED: ("malformed row", "malformed row"),
}
CHANGES = {Outcome.COMPLETED, Outcome.RECORDED}


class ImportFileError(ValueError):
    """The file as a whole cannot be read (size, encoding, CSV syntax, too many rows)."""


@dataclass
class ImportRow:
    """A row of the file by its line number: its cells, then what it names and what it does."""

    line: int
    cells: list[str]
    email: str = ""
    course_code: str = ""
    semester_id: int = 0
    outcome: Outcome | None = None
    message: str = ""
    user_id: str = ""
    course: Course | None = None

    @property
    def shown_cells(self) -> list[str]:
        return [cell if len(cell) <= SHOWN_CELL_LENGTH else f"{cell[:SHOWN_CELL_LENGTH]}…" for cell in self.cells]

    def settle(self, outcome: Outcome, message: str = "") -> None:
        self.outcome, self.message = outcome, message


@dataclass
class ImportReport:
    """Every row's outcome, as done (applied) or as it would be done (dry run)."""

    rows: list[ImportRow]
    applied: bool
    counts: Counter = field(default_factory=Counter)

    def __post_init__(self) -> None:
        self.counts = Counter(row.outcome for row in self.rows)

    def label(self, outcome: Outcome) -> str:
        return OUTCOME_LABELS[outcome][0 if self.applied else 1]

    @property
    def summary(self) -> list[tuple[str, int]]:
        return [(self.label(outcome), self.counts[outcome]) for outcome in Outcome if self.counts[outcome]]

    @property
    def lines(self) -> list[dict[str, object]]:
        return [
            {
                "line": row.line,
                # As many cells as the table has columns (a malformed row's count is in its message).
                "cells": [*row.shown_cells, "", "", ""][: len(COLUMNS)],
                "outcome": row.outcome.value,
                "label": self.label(row.outcome),
                "message": row.message,
            }
            for row in self.rows
        ]


def _is_header(cells: list[str]) -> bool:
    return "@" not in cells[0] and "email" in cells[0].lower()


def _parse_row(line: int, raw_cells: list[str]) -> ImportRow:
    cells = [cell.strip() for cell in raw_cells]
    while cells and not cells[-1]:
        cells.pop()  # spreadsheets add empty columns
    row = ImportRow(line=line, cells=cells)
    if len(cells) != len(COLUMNS):
        row.settle(Outcome.MALFORMED, f"Expected {len(COLUMNS)} columns ({', '.join(COLUMNS)}), found {len(cells)}.")
        return row
    email, course_code, semester = cells
    if any(not cell.isprintable() for cell in cells):
        row.settle(Outcome.MALFORMED, "A cell holds control characters.")
    elif "@" not in email or len(email) > 254:
        row.settle(Outcome.MALFORMED, "The student email is not an email address.")
    elif not COURSE_CODE_PATTERN.match(course_code.upper()):
        row.settle(Outcome.MALFORMED, "The course code should be 2 to 20 letters, digits, spaces or dashes.")
    elif not (semester.isascii() and semester.isdigit() and 0 < int(semester) <= MAX_SEMESTER_ID):
        row.settle(Outcome.MALFORMED, "The semester should be a semester id, like 20263.")
    else:
        row.email, row.course_code, row.semester_id = normalize_email(email), course_code.upper(), int(semester)
    return row


def parse_completions_csv(content: bytes) -> list[ImportRow]:
    """The file's rows (an optional header and blank lines skipped), each malformed one settled."""
    if len(content) > MAX_FILE_BYTES:
        raise ImportFileError(f"The file is larger than {MAX_FILE_BYTES:,} bytes; split it.")
    try:
        text = content.decode("utf-8-sig")  # with or without a byte order mark
    except UnicodeDecodeError as error:
        raise ImportFileError(f"The file is not UTF-8 text (byte {error.start + 1} is not).") from None
    # Strict: a quote left open is reported with its line, not swallowed with the rows after it.
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[ImportRow] = []
    try:
        for raw_cells in reader:
            if not any(cell.strip() for cell in raw_cells):
                continue
            if not rows and reader.line_num == 1 and _is_header(raw_cells):
                continue
            if len(rows) == MAX_ROWS:
                raise ImportFileError(f"The file has more than {MAX_ROWS:,} rows; split it.")
            rows.append(_parse_row(reader.line_num, raw_cells))
    except csv.Error as error:
        raise ImportFileError(f"Line {reader.line_num} is not valid CSV: {error}.") from None
    if not rows:
        raise ImportFileError(f"The file has no rows. Its columns: {', '.join(COLUMNS)}.")
    return rows
