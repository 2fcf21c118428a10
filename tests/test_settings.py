"""Configuration fails loudly at start-up when it is unsafe or malformed."""

from __future__ import annotations

import os
import subprocess
import sys

from django.conf import settings

from devstack.services import ROOT, WAITLIST_QUEUE

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "courseproject.settings.production",
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "api.example.edu",
    "REDIS_URL": "redis://cache.example.internal:6379/0",
    "CELERY_BROKER_URL": "redis://broker.example.internal:6379/1",
}


def load_settings(env: dict[str, str]) -> subprocess.CompletedProcess:
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "REDIS_", "CELERY_"))}
    return subprocess.run(
        [
            sys.executable,
            "-c",
            "import django; django.setup(); from django.conf import settings; print(settings.DEBUG)",
        ],
        cwd=ROOT,
        env={**clean, **env},
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )


def test_production_settings_load_with_a_complete_environment():
    result = load_settings(PRODUCTION_ENV)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "False"


def test_production_refuses_to_start_without_a_real_secret_key():
    for secret in (None, "short", "local-development-key-not-for-production" + "x" * 20):
        env = {key: value for key, value in PRODUCTION_ENV.items() if key != "DJANGO_SECRET_KEY"}
        if secret is not None:
            env["DJANGO_SECRET_KEY"] = secret
        result = load_settings(env)
        assert result.returncode != 0
        assert "DJANGO_SECRET_KEY" in result.stderr


def test_a_malformed_number_in_the_environment_is_refused():
    result = load_settings(
        {"DJANGO_SETTINGS_MODULE": "courseproject.settings.local", "JWT_ACCESS_LIFETIME_SECONDS": "soon"}
    )
    assert result.returncode != 0
    assert "JWT_ACCESS_LIFETIME_SECONDS must be an integer" in result.stderr


def test_the_deploy_checklist_passes_with_the_production_environment():
    clean = {key: value for key, value in os.environ.items() if not key.startswith(("DJANGO_", "REDIS_", "CELERY_"))}
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**clean, **PRODUCTION_ENV, "DJANGO_SECRET_KEY": "k3y-" + "x9Y!" * 16},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_an_unknown_university_time_zone_stops_start_up():
    for zone in ("Mars/Olympus_Mons", "America", "../../etc/passwd"):
        result = load_settings({"DJANGO_SETTINGS_MODULE": "courseproject.settings.local", "UNIVERSITY_TIME_ZONE": zone})
        assert result.returncode != 0
        assert "UNIVERSITY_TIME_ZONE must be a time zone of the IANA database" in result.stderr


def test_a_university_time_zone_leaves_the_process_in_utc():
    result = subprocess.run(
        [
            sys.executable,
            "-c",
            "import django, time; django.setup(); from django.conf import settings; "
            "print(settings.UNIVERSITY_TIME_ZONE, settings.TIME_ZONE, time.tzname[0])",
        ],
        cwd=ROOT,
        env={
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "courseproject.settings.local",
            "UNIVERSITY_TIME_ZONE": "Asia/Tokyo",
        },
        capture_output=True,
        check=False,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["Asia/Tokyo", "UTC", "UTC"]


def test_the_waitlist_workers_devstack_starts_take_the_queue_promotions_are_routed_to():
    assert WAITLIST_QUEUE == settings.WAITLIST_QUEUE
    assert settings.CELERY_TASK_ROUTES["enrollments.promote_waitlist"] == {"queue": WAITLIST_QUEUE}
