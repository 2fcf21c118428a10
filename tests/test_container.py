"""The container image: its Dockerfile lint-clean under hadolint, its one entry point
(courseproject/container.py) running a program that exists for every role and for every Command of
the ECS task definitions (infra/compute.yaml), a build context holding all the image runs, and its
build step runnable without secrets. The image itself is built only where a Docker daemon answers.
What each role runs in detail: tests/test_container_roles.py."""

from __future__ import annotations

import ast
import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from importlib.util import find_spec
from pathlib import Path
from typing import Any

import pytest
from celery.bin.celery import celery as celery_command_line
from cfnlint.decode import decode
from django.conf import settings
from django.core.management import get_commands

from courseproject.container import ROLES, commands_for
from devstack.services import ROOT

DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPUTE_TEMPLATE = ROOT / "infra" / "compute.yaml"
HADOLINT = Path(sys.executable).with_name("hadolint")
# Arguments each role is tried with: what a task definition or a person would give it.
ROLE_ARGUMENTS = {
    "web": [],
    "worker": ["--queues", "waitlist", "--concurrency", "2"],
    "beat": [],
    "release": [],
    "manage": ["create_user", "--email", "admin@example.edu", "--name", "Admin", "--role", "admin"],
}


def print_commands(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "courseproject.container", "--print", *argv],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={**os.environ, "DJANGO_SETTINGS_MODULE": "courseproject.settings.test"},
    )


def assert_program_exists(command: list[str]) -> None:
    """The interpreter runs a module that is installed; a Celery subcommand or a manage.py command
    that is registered."""
    assert command[0] == sys.executable, command
    if command[1] == "-m":
        assert find_spec(command[2]) is not None, f"no module {command[2]}: {command}"
    else:
        assert Path(command[1]) == ROOT / "manage.py", command
        assert command[2] in get_commands(), f"manage.py has no command {command[2]!r}: {command}"
    if command[2] == "celery":
        assert command[3:5] == ["-A", "courseproject"], command
        assert command[5] in celery_command_line.commands, f"celery has no command {command[5]!r}: {command}"


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs, continuation lines joined, comments left out."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = [line.strip() for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")]
    return [(line.split(maxsplit=1)[0].upper(), line.split(maxsplit=1)[1]) for line in lines]


# --- hadolint ------------------------------------------------------------------------------------


def test_hadolint_finds_nothing_in_the_dockerfile(tmp_path):
    # No configuration but the repository's: a person's ~/.config/hadolint.yaml must not hide a finding.
    result = subprocess.run(
        [str(HADOLINT), "--no-color", "--failure-threshold", "style", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        check=False,
        cwd=ROOT,
        env={"PATH": os.environ["PATH"], "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path)},
    )
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


# --- the entry point -----------------------------------------------------------------------------


def test_the_image_enters_through_the_container_module_and_serves_by_default():
    instructions = dict(dockerfile_instructions())  # the last of each, as Docker takes them
    assert json.loads(instructions["ENTRYPOINT"]) == ["python", "-m", "courseproject.container"]
    assert json.loads(instructions["CMD"]) == ["web"]
    user = instructions["USER"].split(":")[0]
    assert user.isdigit() and int(user) != 0, "the image must run as a numeric, non-root user"


def test_every_role_is_covered_here():
    assert ROLE_ARGUMENTS.keys() == ROLES.keys()


@pytest.mark.parametrize("role", list(ROLE_ARGUMENTS))
def test_every_role_runs_programs_that_exist(role):
    result = print_commands(role, *ROLE_ARGUMENTS[role])
    assert result.returncode == 0, result.stderr
    commands = [json.loads(line) for line in result.stdout.splitlines()]
    assert commands
    for command in commands:
        assert_program_exists(command["argv"])


# --- the task definitions ------------------------------------------------------------------------


def task_definition_commands() -> Iterator[tuple[str, list[Any]]]:
    parsed, errors = decode(str(COMPUTE_TEMPLATE))
    assert not errors, errors
    resources = json.loads(json.dumps(parsed))["Resources"]  # plain dicts and lists
    for logical_id, resource in resources.items():
        if resource["Type"] == "AWS::ECS::TaskDefinition":
            for container in resource["Properties"]["ContainerDefinitions"]:
                # Without a Command the image's CMD runs: web.
                yield f"{logical_id}/{container['Name']}", container.get("Command", ["web"])


@pytest.mark.skipif(not COMPUTE_TEMPLATE.exists(), reason="infra/compute.yaml does not exist yet")
def test_every_task_definition_runs_a_role_of_the_image_with_programs_that_exist():
    commands = list(task_definition_commands())
    assert commands, "infra/compute.yaml defines no ECS task definition"
    for name, command in commands:
        assert command and command[0] in ROLES, f"{name}: {command} does not start with a role ({', '.join(ROLES)})"
        # A parameter or !Sub in an argument stands for a value; the programs are what matter here.
        arguments = [argument if isinstance(argument, str) else "VALUE" for argument in command]
        for program in commands_for(arguments):
            assert_program_exists(program.argv)


# --- the build context ---------------------------------------------------------------------------


def ignore_patterns() -> list[re.Pattern[str]]:
    """.dockerignore's patterns as regular expressions over paths relative to the context."""
    patterns = [line.strip() for line in DOCKERIGNORE.read_text().splitlines()]
    patterns = [pattern for pattern in patterns if pattern and not pattern.startswith("#")]
    # Exceptions would need Docker's full rules; this reader (and so the file) does without them.
    assert not any(pattern.startswith("!") for pattern in patterns)
    return [re.compile(_pattern_regex(pattern.strip("/"))) for pattern in patterns]


def _pattern_regex(pattern: str) -> str:
    parts = re.split(r"(\*\*/|\*\*|\*|\?)", pattern)
    wildcards = {"**/": "(?:.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}
    return "".join(wildcards.get(part, re.escape(part)) for part in parts) + r"\Z"


def build_context() -> list[Path]:
    """The files `docker build .` sends to the daemon: an ignored directory takes its contents with it."""
    patterns = ignore_patterns()

    def ignored(relative: str) -> bool:
        return any(pattern.match(relative) for pattern in patterns)

    files = []
    for directory, subdirectories, names in os.walk(ROOT):
        base = Path(directory).relative_to(ROOT)
        subdirectories[:] = sorted(name for name in subdirectories if not ignored((base / name).as_posix()))
        files += [base / name for name in sorted(names) if not ignored((base / name).as_posix())]
    return files


def test_the_build_context_holds_what_the_image_runs_and_none_of_the_local_state():
    context = {path.as_posix() for path in build_context()}
    for needed in ("manage.py", "requirements/base.txt", "infra/gunicorn.conf.py", "courseproject/container.py"):
        assert needed in context, f"{needed} is left out of the image"
    for app in settings.INSTALLED_APPS:
        top = app.split(".")[0]
        if (ROOT / top).is_dir():
            assert f"{top}/__init__.py" in context, f"the app {top} is left out of the image"
    for local_only in (".venv", ".run", ".git", "tests", "devstack", "staticfiles"):
        assert not any(path == local_only or path.startswith(f"{local_only}/") for path in context), local_only


def test_nothing_in_the_image_imports_a_package_the_build_context_leaves_out():
    context = build_context()
    shipped = {path.parts[0] for path in context if len(path.parts) > 1}
    left_out = {path.name for path in ROOT.iterdir() if path.is_dir() and (path / "__init__.py").exists()} - shipped
    assert "tests" in left_out  # the reader works
    for path in context:
        if path.suffix != ".py":
            continue
        for node in ast.walk(ast.parse((ROOT / path).read_text(), filename=str(path))):
            names = (
                [alias.name for alias in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom) and node.level == 0
                else []
            )
            for name in names:
                assert name.split(".")[0] not in left_out, f"{path} imports {name}, which the image leaves out"


def test_collectstatic_as_the_build_runs_it_needs_no_secrets(tmp_path):
    """The Dockerfile's collectstatic step, run on a copy of the build context with none of the
    variables production requires."""
    [step] = [arguments for instruction, arguments in dockerfile_instructions() if "collectstatic" in arguments]
    for path in build_context():
        (tmp_path / path).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / path, tmp_path / path)
    environment = {"PATH": f"{Path(sys.executable).parent}:/usr/bin:/bin", "PYTHONDONTWRITEBYTECODE": "1"}
    result = subprocess.run(
        ["/bin/sh", "-c", step], capture_output=True, text=True, check=False, cwd=tmp_path, env=environment
    )
    assert result.returncode == 0, result.stdout + result.stderr
    static = tmp_path / "staticfiles"
    assert (static / "drf_spectacular_sidecar" / "swagger-ui-dist" / "swagger-ui-bundle.js").exists()
    assert (static / "admin" / "css" / "base.css").exists()


# --- the image -----------------------------------------------------------------------------------


def docker_daemon_answers() -> bool:
    docker = shutil.which("docker")
    if docker is None:
        return False
    return subprocess.run([docker, "info"], capture_output=True, check=False, timeout=30).returncode == 0


@pytest.mark.timeout(1800)
@pytest.mark.skipif(
    not docker_daemon_answers(), reason="no Docker daemon answers here; the image is built where one does"
)
def test_the_image_builds_and_runs_each_role_as_a_non_root_user():
    tag = "course-registration:test"
    build = subprocess.run(["docker", "build", "-t", tag, str(ROOT)], capture_output=True, text=True, check=False)
    assert build.returncode == 0, build.stdout[-5000:] + build.stderr[-5000:]
    user = subprocess.run(
        ["docker", "run", "--rm", "--entrypoint", "id", tag, "-u"], capture_output=True, text=True, check=True
    )
    assert user.stdout.strip() != "0"
    for role, arguments in ROLE_ARGUMENTS.items():
        # --print with the base settings: production's refuse to load without their secrets.
        settings_module = "DJANGO_SETTINGS_MODULE=courseproject.settings.base"
        printed = subprocess.run(
            ["docker", "run", "--rm", "-e", settings_module, tag, "--print", role, *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
        assert printed.returncode == 0, f"{role}: {printed.stderr}"
        assert printed.stdout.strip(), role
