"""docs/api.md's worked examples do what it says: the block between its demo-examples markers runs in
bash, with curl, against the web server serving seed_demo's default data (the data `make run` loads, in
tables of its own), and every command answers the status and code its comment gives."""

from __future__ import annotations

import json
import os
import re
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from demo.management.commands.demo_examples import Command as DemoExamplesCommand
from demo.options import dataset_from_options
from devstack.services import ROOT, free_port, manage, web_server
from tests.conftest import TEST_LOG_DIR

API_DOCS = ROOT / "docs" / "api.md"
START, END = "<!-- demo-examples:start -->", "<!-- demo-examples:end -->"
EXPECTATION = re.compile(r"^call .*# (\d{3}) (\w+)$")
ANSWER = re.compile(r"^(.*) \(HTTP (\d{3})\)$")
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "courseproject.settings.test",
    "TEST_DYNAMODB_TABLE_PREFIX": "demo-examples-",
    "PYTHONUNBUFFERED": "1",
}


def examples_script() -> str:
    text = API_DOCS.read_text()
    block = text[text.index(START) + len(START) : text.index(END)].strip()
    assert block.startswith("```sh\n") and block.endswith("\n```"), "the examples are one sh code block"
    return block.removeprefix("```sh\n").removesuffix("\n```")


@dataclass(frozen=True)
class Answer:
    command: str
    status: int
    body: Any


@pytest.fixture(scope="module")
def demo_server(local_services) -> Iterator[str]:
    """The web server on freshly seeded demo data; tasks run inline."""
    manage("create_indexes", env=SERVER_ENV, capture_output=True)
    manage("seed_demo", "--no-progress", env=SERVER_ENV, capture_output=True)
    port = free_port()
    server = web_server(
        port=port, log_path=TEST_LOG_DIR / "web-demo-examples.log", env={**SERVER_ENV, "WEB_WORKERS": "2"}
    ).start(timeout=90)
    try:
        yield f"127.0.0.1:{port}"
    finally:
        server.stop()


def run_examples(address: str) -> list[Answer]:
    script = examples_script()
    completed = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", script.replace("localhost:8000", address)],
        cwd=ROOT,
        env={**os.environ, **SERVER_ENV},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    commands = [line for line in script.splitlines() if line.startswith("call ")]
    answers = [ANSWER.match(line) for line in completed.stdout.splitlines()]
    answers = [match for match in answers if match]
    assert len(answers) == len(commands), completed.stdout
    return [
        Answer(command, int(match.group(2)), json.loads(match.group(1)))
        for command, match in zip(commands, answers, strict=True)
    ]


def default_showcase():
    options = vars(DemoExamplesCommand().create_parser("manage.py", "demo_examples").parse_args([]))
    return dataset_from_options(options).showcase


@pytest.mark.e2e
def test_every_example_in_the_api_docs_answers_what_its_comment_says(demo_server):
    answers = run_examples(demo_server)

    for answer in answers:
        expected_status, expected = EXPECTATION.match(answer.command).groups()
        assert answer.status == int(expected_status), (answer.command, answer.body)
        if answer.status >= 400:
            assert answer.body["code"] == expected, (answer.command, answer.body)
        else:
            assert expected in answer.body, (answer.command, answer.body)

    showcase = default_showcase()
    by_code = {answer.body.get("code"): answer.body for answer in answers if answer.status >= 400}
    assert by_code["prerequisites_missing"]["missing_prerequisites"] == ["BIO 100"]
    assert by_code["time_conflict"]["conflicting_course_id"] == showcase.enrolled_course.course_id
    assert (by_code["credit_limit_exceeded"]["credit_limit"], by_code["credit_limit_exceeded"]["enrolled_credits"]) == (
        18,
        16,
    )
    completion = next(answer.body for answer in answers if "completed" in answer.body)
    assert showcase.student.user_id in completion["completed"]
    assert answers[-1].body["credits_by_semester"] == {str(showcase.semester_ids[1]): 6}


def test_the_docs_name_the_courses_the_examples_use():
    showcase = default_showcase()
    named = {
        "CS 100": showcase.completed_course,
        "MATH 100": showcase.grades_pending_course,
        "PHYS 100": showcase.enrolled_course,
        "CHEM 100": showcase.conflicting_course,
        "BIO 101": showcase.needs_prerequisite_course,
        "ECON 100": showcase.full_course,
        "CS 101": showcase.next_course,
    }
    text = API_DOCS.read_text()
    for code, course in named.items():
        assert course.course_code == code
        assert f"`{code}`" in text
    assert showcase.needs_prerequisite_course.prerequisites == ["BIO 100"]
    assert showcase.next_course.prerequisites == ["CS 100"]
    assert sum(course.credits for course in showcase.full_load_courses) == 16
    assert showcase.over_limit_course.credits == 3
    assert showcase.enrolled_course.meetings == [{"days": ["MON", "WED"], "start": "09:00", "end": "10:15"}]
