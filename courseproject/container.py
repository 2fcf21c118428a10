"""The container image's one entry point: `python -m courseproject.container ROLE [ARGUMENT ...]`.

The Dockerfile's ENTRYPOINT; an ECS task definition's Command names the role (infra/compute.yaml):

- `web`: the web server as courseproject/serve.py chose it by measurement (granian; WEB_SERVER,
  WEB_WORKERS, WEB_THREADS, HOST, PORT and the rest are read there).
- `worker`: a Celery worker. Celery reads CELERY_WORKER_QUEUES and CELERY_WORKER_CONCURRENCY from
  the environment (a task definition sets them); unset, they default to every queue the settings
  route to (CELERY_TASK_ROUTES) and Celery's default queue, and 4 processes. Arguments after the
  role go to Celery and win over both: `worker --queues waitlist --concurrency 2`.
- `beat`: Celery beat, the periodic tasks. Exactly one may run.
- `release`: what a deploy runs once before the web service is updated: `create_indexes --check`
  (fails if the tables differ from the models), then `backfill_semesters`.
- `manage`: `manage.py` with the arguments given, for one-off tasks (`manage create_user ...`).

`--print` before the role prints each command as a JSON line, {"argv": [...], "environment_defaults":
{...}}, instead of running it (tests/test_container.py checks every role, and every task
definition's Command, this way).

Python rather than a shell script so that the roles are one table the tests read, and the worker's
queues come from the settings instead of a second list of them.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

# Loads no settings on import; only the worker's role reads them.
from courseproject.observability.queues import celery_queue_names

ROOT = Path(__file__).resolve().parent.parent
CELERY = [sys.executable, "-m", "celery", "-A", "courseproject"]
MANAGE = [sys.executable, str(ROOT / "manage.py")]
WORKER_CONCURRENCY = 4


class UsageError(Exception):
    pass


@dataclass(frozen=True)
class Command:
    argv: list[str]
    # Variables the program reads, set only where the environment does not set them already.
    environment_defaults: dict[str, str] = field(default_factory=dict)


def web(arguments: list[str]) -> list[Command]:
    if arguments:
        raise UsageError("web takes no arguments; configure it with WEB_* variables (courseproject/serve.py)")
    return [Command([sys.executable, "-m", "courseproject.serve"])]


def worker(arguments: list[str]) -> list[Command]:
    # Celery's command line reads CELERY_WORKER_<OPTION> (click's automatic variables) and prefers
    # its arguments to them, so a task definition's variables and arguments both override these.
    defaults = {
        "CELERY_WORKER_QUEUES": ",".join(celery_queue_names()),
        "CELERY_WORKER_CONCURRENCY": str(WORKER_CONCURRENCY),
    }
    return [Command([*CELERY, "worker", "--loglevel", "INFO", *arguments], defaults)]


def beat(arguments: list[str]) -> list[Command]:
    return [Command([*CELERY, "beat", "--loglevel", "INFO", *arguments])]


def release(arguments: list[str]) -> list[Command]:
    if arguments:
        raise UsageError("release takes no arguments")
    # The check first: a backfill against tables that differ from the models could fail half-way.
    return [Command([*MANAGE, "create_indexes", "--check"]), Command([*MANAGE, "backfill_semesters"])]


def manage(arguments: list[str]) -> list[Command]:
    if not arguments:
        raise UsageError("manage needs a command, such as: manage create_user --email ... --role admin")
    return [Command([*MANAGE, *arguments])]


ROLES: dict[str, Callable[[list[str]], list[Command]]] = {
    "web": web,
    "worker": worker,
    "beat": beat,
    "release": release,
    "manage": manage,
}


def commands_for(argv: list[str]) -> list[Command]:
    """The commands a role runs, in order: `argv` is the role and its arguments."""
    if not argv or argv[0] not in ROLES:
        raise UsageError(f"the first argument must be a role: {', '.join(ROLES)}")
    return ROLES[argv[0]](argv[1:])


def run(commands: list[Command]) -> None:
    """Each command but the last as a child; the last replaces this process, so that it receives
    ECS's SIGTERM itself and its exit code is the task's."""
    *first, last = commands
    for command in first:
        environment = {**command.environment_defaults, **os.environ}
        returncode = subprocess.run(command.argv, env=environment, check=False).returncode
        if returncode != 0:
            sys.exit(returncode)
    os.execve(last.argv[0], last.argv, {**last.environment_defaults, **os.environ})


def main(argv: list[str]) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "courseproject.settings.local")
    print_only = argv[:1] == ["--print"]
    try:
        commands = commands_for(argv[1:] if print_only else argv)
    except UsageError as error:
        sys.exit(f"usage: python -m courseproject.container [--print] ROLE [ARGUMENT ...]\n{error}")
    if print_only:
        for command in commands:
            print(json.dumps(asdict(command)))
        return
    run(commands)


if __name__ == "__main__":
    main(sys.argv[1:])
