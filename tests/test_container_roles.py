"""What each role of the image's entry point (courseproject/container.py) runs: the options a
worker starts with, whoever sets them; commands in order, stopping at the first that fails; and
what it refuses. tests/test_container.py checks that every role's programs exist."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import asdict
from typing import Any

import pytest
from celery.bin.base import CLIContext
from celery.bin.celery import celery as celery_command_line
from django.conf import settings

from courseproject.celery import app as celery_app
from courseproject.container import Command, commands_for
from devstack.services import ROOT
from tests.test_container import print_commands


def test_web_runs_the_server_the_project_chose():
    assert commands_for(["web"]) == [Command([sys.executable, "-m", "courseproject.serve"])]


def test_the_release_checks_the_tables_before_it_backfills():
    commands = [command.argv[2:] for command in commands_for(["release"])]
    assert commands == [["create_indexes", "--check"], ["backfill_semesters"]]


def celery_worker_options(command: Command, environment: dict[str, str]) -> dict[str, Any]:
    """The options Celery's worker would start with, given the task's environment: parsed by Celery's
    own command line, which reads CELERY_WORKER_<OPTION> variables as `python -m celery` does."""
    arguments = command.argv[command.argv.index("worker") + 1 :]
    worker_command = celery_command_line.commands["worker"]
    with pytest.MonkeyPatch.context() as patch:
        for name in ("CELERY_WORKER_QUEUES", "CELERY_WORKER_CONCURRENCY"):
            patch.delenv(name, raising=False)
        for name, value in {**command.environment_defaults, **environment}.items():
            patch.setenv(name, value)
        context = worker_command.make_context(
            "worker",
            arguments,
            obj=CLIContext(app=celery_app, no_color=True, workdir=None, quiet=True),
            auto_envvar_prefix="CELERY_WORKER",
        )
    return context.params


def test_a_worker_consumes_every_queue_a_task_is_routed_to_by_default():
    [command] = commands_for(["worker"])
    options = celery_worker_options(command, {})
    routed = {route["queue"] for route in settings.CELERY_TASK_ROUTES.values()}
    assert set(options["queues"]) == {"celery", *routed}
    assert options["concurrency"] == 4


def test_a_task_definitions_variables_override_the_workers_defaults():
    [command] = commands_for(["worker"])
    options = celery_worker_options(command, {"CELERY_WORKER_QUEUES": "waitlist", "CELERY_WORKER_CONCURRENCY": "2"})
    assert options["queues"] == ["waitlist"]
    assert options["concurrency"] == 2


def test_arguments_after_the_worker_role_override_its_variables():
    [command] = commands_for(["worker", "--queues", "waitlist", "--concurrency", "2"])
    options = celery_worker_options(command, {"CELERY_WORKER_QUEUES": "celery,metrics"})
    assert options["queues"] == ["waitlist"]
    assert options["concurrency"] == 2


def run_in_a_child(
    commands: list[Command], environment: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """courseproject.container.run(commands) in a process of its own: it replaces that process."""
    fields = [asdict(command) for command in commands]
    code = f"from courseproject.container import Command, run; run([Command(**each) for each in {fields!r}])"
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, **(environment or {})},
    )


def python(code: str, **environment_defaults: str) -> Command:
    return Command([sys.executable, "-c", code], environment_defaults)


def test_a_role_stops_at_its_first_failing_command_with_its_exit_code():
    result = run_in_a_child([python("import sys; sys.exit(3)"), python("print('second')")])
    assert result.returncode == 3
    assert "second" not in result.stdout


def test_a_role_runs_its_commands_in_order_and_exits_as_the_last_one():
    result = run_in_a_child([python("print('first')"), python("import sys; print('second'); sys.exit(4)")])
    assert result.returncode == 4
    assert result.stdout.split() == ["first", "second"]


def test_a_variable_the_task_sets_wins_over_the_roles_default():
    command = python("import os; print(os.environ['WORKER_TEST_SETTING'])", WORKER_TEST_SETTING="default")
    assert run_in_a_child([command]).stdout.strip() == "default"
    assert run_in_a_child([command], {"WORKER_TEST_SETTING": "the task's"}).stdout.strip() == "the task's"


def test_the_manage_role_runs_a_command_against_the_tables():
    result = subprocess.run(
        [sys.executable, "-m", "courseproject.container", "manage", "create_indexes", "--check"],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "courseproject.settings.test"},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "No drift" in result.stdout


@pytest.mark.parametrize("argv", [[], ["serve"], ["manage"], ["web", "--workers", "2"], ["release", "--dry-run"]])
def test_a_command_the_entry_point_does_not_know_is_refused(argv):
    result = print_commands(*argv)
    assert result.returncode != 0
    assert "usage: python -m courseproject.container" in result.stderr
    assert not result.stdout
