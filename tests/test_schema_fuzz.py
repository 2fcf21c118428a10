"""The API against its own OpenAPI document: Schemathesis runs the phases of `schemathesis run`
(examples, coverage, fuzzing) on every operation of /api/schema/, as a student, an instructor and an
admin, against the WSGI application in this process, and holds every answer to the document: no 5xx,
and every status, content type, header and body one the document gives for that operation.

Each role signs in through POST /api/auth/login. The operations that end sign-ins (signing out, a
password change) act as a second user of that role, signed in afresh for each case, so they never
end the session the other cases use; should another operation end it, Schemathesis signs in again on
the 401 and repeats the request. Known ids are mixed into the generated path parameters, so requests
reach real courses and semesters, not only 404s. Semesters the fuzzer creates are kept to the years
9000 to 9999, which no other test uses.

Runs once per `make test` (its CACHE_ENABLED=false pass leaves out the `fuzz` marker); alone:
`.venv/bin/pytest tests/test_schema_fuzz.py`. FUZZ_MAX_EXAMPLES and FUZZ_SEED change the run.
"""

from __future__ import annotations

import os
import uuid
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from django.core.wsgi import get_wsgi_application
from django.test import Client
from hypothesis import strategies as st
from hypothesis.configuration import set_hypothesis_home_dir
from schemathesis.engine import events, from_schema
from schemathesis.engine.statistic import Statistic

from accounts import services as account_services
from accounts.models import Actor, Role, User
from courseproject.ids import is_semester_id
from courses import services as course_services
from devstack.services import RUN_DIR
from enrollments import services as enrollment_services
from tests.conftest import TEST_PASSWORD, open_semester, unique_email

pytestmark = pytest.mark.fuzz

# Generated requests per operation in the fuzzing phase; the coverage phase adds its own (~40 each).
MAX_EXAMPLES = int(os.environ.get("FUZZ_MAX_EXAMPLES", "25"))
# A fixed seed: a run is reproducible, and a failure found in CI is found again locally.
SEED = int(os.environ.get("FUZZ_SEED", "20261201"))
# What every answer is held to: Schemathesis' checks of a response against the document.
CHECKS = (
    "not_a_server_error",
    "status_code_conformance",
    "content_type_conformance",
    "response_schema_conformance",
    "response_headers_conformance",
)
ENDS_SIGN_INS = frozenset({"POST /api/auth/logout", "POST /api/auth/password"})
# Shorter than an access token's life (15 minutes): the shared token never expires during a run.
TOKEN_REUSE_SECONDS = 600
# Semesters the fuzzer creates get a year in 9000..9999 (fresh_semester_id uses 1000..1999,
# unrecorded_semester 10000 and above, the demo data this century).
FUZZ_SEMESTER_YEARS = 9000


@dataclass(frozen=True)
class FuzzData:
    """A little of everything, so that generated requests reach real paths."""

    users: dict[Role, User]
    # Of each role, the user whose sign-ins the operations in ENDS_SIGN_INS may end.
    signing_out_users: dict[Role, User]
    semester_id: int
    course_ids: list[str]

    def path_parameters(self) -> list[dict[str, Any]]:
        return [*({"course_id": course_id} for course_id in self.course_ids), {"semester_id": self.semester_id}]


@pytest.fixture(scope="module", autouse=True)
def hypothesis_files_in_run_dir() -> None:
    """Hypothesis keeps caches in .hypothesis/ of the working directory; these go with the tests' logs."""
    set_hypothesis_home_dir(RUN_DIR / "hypothesis")


def new_user(role: Role) -> User:
    return account_services.register_user(
        email=unique_email(f"fuzz-{role.value}"), password=TEST_PASSWORD, name=f"Fuzz {role.value}", role=role
    )


@pytest.fixture(scope="module")
def fuzz_data() -> FuzzData:
    users = {role: new_user(role) for role in Role}
    semester_id = open_semester()
    instructor = Actor(user_id=users[Role.INSTRUCTOR].user_id, role=Role.INSTRUCTOR)
    courses = [
        course_services.create_course(
            actor=instructor,
            course_code=f"FUZZ {number}",
            title="Fuzzing",
            semester_id=semester_id,
            department_id=1,
            credits=3,
            capacity=capacity,
            meetings=[{"days": ["MON"], "start": f"{8 + number}:00", "end": f"{8 + number}:50"}],
        )
        for number, capacity in ((1, 30), (2, 1), (3, 5))
    ]
    student = Actor(user_id=users[Role.STUDENT].user_id, role=Role.STUDENT)
    enrollment_services.enroll(actor=student, course_id=courses[0].course_id)
    return FuzzData(
        users=users,
        signing_out_users={role: new_user(role) for role in Role},
        semester_id=semester_id,
        course_ids=[course.course_id for course in courses],
    )


def sign_in(user: User) -> str:
    response = Client().post(
        "/api/auth/login", {"email": user.email, "password": TEST_PASSWORD}, content_type="application/json"
    )
    assert response.status_code == 200, response.content
    return response.json()["access"]


def token_key(case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
    """One token per run for most operations; a new sign-in for every case of one that ends sign-ins."""
    return uuid.uuid4().hex if context.operation.label in ENDS_SIGN_INS else "shared"


def fuzzed_schema(role: Role, data: FuzzData) -> schemathesis.BaseSchema:
    """/api/schema/ loaded through the WSGI application, with a signed-in `role` for every case."""
    config = schemathesis.Config.from_dict(
        {
            "seed": SEED,
            # Nothing kept between runs (a run is its seed), and nothing written into the tree.
            "cache": {"enabled": False},
            # Hypothesis' checks of its own generation (too slow on a busy CI machine) say nothing of the API.
            "suppress-health-check": ["all"],
            "generation": {"max-examples": MAX_EXAMPLES, "database": "none"},
            "phases": {"stateful": {"enabled": False}},
            "checks": {"enabled": False, **{check: {"enabled": True} for check in CHECKS}},
        }
    )
    schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)

    @schema.auth(refresh_interval=TOKEN_REUSE_SECONDS, cache_by_key=token_key)
    class SignedIn:
        def get(self, case: schemathesis.Case, context: schemathesis.AuthContext) -> str:
            ends_sign_ins = context.operation.label in ENDS_SIGN_INS
            return sign_in((data.signing_out_users if ends_sign_ins else data.users)[role])

        def set(self, case: schemathesis.Case, token: str, context: schemathesis.AuthContext) -> None:
            case.headers = {**(case.headers or {}), "Authorization": f"Bearer {token}"}

    known = data.path_parameters()

    @schema.hook
    def before_generate_path_parameters(context: schemathesis.HookContext, strategy: Any) -> Any:
        names = {parameter.name for parameter in context.operation.path_parameters}
        matching = [parameters for parameters in known if set(parameters) == names]
        return st.one_of(strategy, st.sampled_from(matching)) if matching else strategy

    @schema.hook
    def map_body(context: schemathesis.HookContext, body: Any) -> Any:
        if context.operation.label == "POST /api/semesters" and isinstance(body, dict):
            semester_id = body.get("semester_id")
            if isinstance(semester_id, int) and not isinstance(semester_id, bool) and is_semester_id(semester_id):
                body = {**body, "semester_id": FUZZ_SEMESTER_YEARS * 10 + semester_id % 10_000}
        return body

    return schema


def run_schemathesis(schema: schemathesis.BaseSchema) -> tuple[Statistic, list[str]]:
    """The phases of `schemathesis run` through its engine (its pytest loader does not run on pytest 9),
    with the cases and failures counted as the command counts them."""
    statistic = Statistic()
    errors = []
    for event in from_schema(schema).execute():
        if isinstance(event, events.ScenarioFinished) and event.is_test_scenario:
            statistic.on_scenario_finished(event.recorder)
        elif isinstance(event, events.NonFatalError):
            errors.append(f"{event.label}: {event.value!r}")
        elif isinstance(event, events.FatalError):
            raise event.exception
    return statistic, errors


def failure_report(statistic: Statistic) -> str:
    return "\n".join(
        f"{label}: {failure.title}\n{failure.message}\n{group.code_sample or ''}\n"
        for label, groups in statistic.failures.items()
        for group in groups.values()
        for failure in group.failures
    )


@pytest.mark.timeout(300)
@pytest.mark.parametrize("role", [Role.STUDENT, Role.INSTRUCTOR, Role.ADMIN], ids=lambda role: role.value)
def test_every_answer_is_one_the_schema_documents(role: Role, fuzz_data: FuzzData) -> None:
    statistic, errors = run_schemathesis(fuzzed_schema(role, fuzz_data))
    print(f"{role.value}: {statistic.total_cases} cases, {statistic.total_failures} failures")
    assert not errors, "\n".join(errors)
    assert statistic.total_failures == 0, failure_report(statistic)
    assert len(statistic.tested_operations) > 20, statistic.tested_operations
