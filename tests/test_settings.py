"""Configuration fails loudly at start-up when it is unsafe or malformed."""

from __future__ import annotations

import json
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command

from benchmarks.stack import BenchStack
from benchmarks.variables import BenchVariables
from devstack.services import ROOT, WAITLIST_QUEUE

PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "courseproject.settings.production",
    "DJANGO_SECRET_KEY": "x" * 60,
    "DJANGO_ALLOWED_HOSTS": "api.example.edu",
    "REDIS_URL": "redis://cache.example.internal:6379/0",
    "CELERY_BROKER_URL": "redis://broker.example.internal:6379/1",
    "NUM_PROXIES": "1",
    "JWT_SIGNING_KEY": "p8QzC1kVw2xYb7NfR4sTgH9mLd0aJe5uK3iOc6yZqWv",
    "PASSWORD_RESET_URL": "https://registration.example.edu/reset-password",
    "EMAIL_VERIFICATION_URL": "https://registration.example.edu/verify-email",
}
# What the host's environment must not add to a test's: the settings these tests vary.
SETTINGS_PREFIXES = ("DJANGO_", "REDIS_", "CELERY_", "JWT_", "METRICS_", "NUM_PROXIES", "SEED_DEMO_")


def outer_env() -> dict[str, str]:
    return {key: value for key, value in os.environ.items() if not key.startswith(SETTINGS_PREFIXES)}


def load_settings(env: dict[str, str], *, show: str = "DEBUG") -> subprocess.CompletedProcess:
    return subprocess.run(
        [
            sys.executable,
            "-c",
            f"import django; django.setup(); from django.conf import settings; print(settings.{show})",
        ],
        cwd=ROOT,
        env={**outer_env(), **env},
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
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env={**outer_env(), **PRODUCTION_ENV, "DJANGO_SECRET_KEY": "k3y-" + "x9Y!" * 16},
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


def test_an_auth_token_goes_into_its_redis_url_and_may_not_be_given_twice():
    """ECS injects a secret as a whole variable (infra/compute.yaml), so the tokens come apart from the URLs."""
    env = {**PRODUCTION_ENV, "REDIS_AUTH_TOKEN": "cacheToken123", "CELERY_BROKER_AUTH_TOKEN": "brokerToken456"}
    result = load_settings(env, show="REDIS_URL, settings.CELERY_BROKER_URL")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == [
        "redis://:cacheToken123@cache.example.internal:6379/0",
        "redis://:brokerToken456@broker.example.internal:6379/1",
    ]
    twice = {**env, "REDIS_URL": "rediss://:other@cache.example.internal:6379/0"}
    result = load_settings(twice)
    assert result.returncode != 0
    assert "REDIS_URL has a password and REDIS_AUTH_TOKEN is set" in result.stderr


def without(name: str) -> dict[str, str]:
    return {key: value for key, value in PRODUCTION_ENV.items() if key != name}


@pytest.mark.parametrize("num_proxies", [None, ""])
def test_production_refuses_to_start_without_num_proxies_said_explicitly(num_proxies):
    env = without("NUM_PROXIES") if num_proxies is None else {**PRODUCTION_ENV, "NUM_PROXIES": num_proxies}
    result = load_settings(env)
    assert result.returncode != 0
    assert "Production needs NUM_PROXIES" in result.stderr


@pytest.mark.parametrize(
    "jwt_key",
    [
        None,
        "short-but-random-4Kq9",
        "x" * 64,  # long, and a placeholder
        "changeme" * 6,
        PRODUCTION_ENV["DJANGO_SECRET_KEY"],
    ],
)
def test_production_refuses_a_jwt_key_that_is_missing_short_a_placeholder_or_the_secret_key(jwt_key):
    env = without("JWT_SIGNING_KEY") if jwt_key is None else {**PRODUCTION_ENV, "JWT_SIGNING_KEY": jwt_key}
    if jwt_key == PRODUCTION_ENV["DJANGO_SECRET_KEY"]:
        env["DJANGO_SECRET_KEY"] = env["JWT_SIGNING_KEY"] = secrets.token_urlsafe(48)
    result = load_settings(env)
    assert result.returncode != 0
    assert "Production needs JWT_SIGNING_KEY" in result.stderr


@pytest.mark.parametrize("jwt_key", [secrets.token_urlsafe(32), secrets.token_hex(32)])
def test_production_takes_32_random_bytes_as_the_jwt_key_in_base64_or_hex(jwt_key):
    result = load_settings({**PRODUCTION_ENV, "JWT_SIGNING_KEY": jwt_key})
    assert result.returncode == 0, result.stderr


def test_production_serves_metrics_only_behind_a_token():
    assert load_settings(PRODUCTION_ENV, show="METRICS_ENABLED").stdout.strip() == "False"
    with_token = load_settings({**PRODUCTION_ENV, "METRICS_TOKEN": "t0ken"}, show="METRICS_ENABLED")
    assert with_token.stdout.strip() == "True"
    refused = load_settings({**PRODUCTION_ENV, "METRICS_ENABLED": "true"})
    assert refused.returncode != 0
    assert "METRICS_TOKEN" in refused.stderr


def test_metrics_turned_off_is_a_json_404(anonymous, settings):
    settings.METRICS_ENABLED = False
    response = anonymous.get("/metrics")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found.", "code": "not_found"}


def test_a_malformed_throttle_rate_stops_start_up():
    result = load_settings({"DJANGO_SETTINGS_MODULE": "courseproject.settings.local", "WRITE_THROTTLE_RATE": "lots"})
    assert result.returncode != 0
    assert "WRITE_THROTTLE_RATE: a rate looks like 30/min" in result.stderr


def test_seed_demo_refuses_to_run_under_production_settings():
    result = subprocess.run(
        [sys.executable, "manage.py", "seed_demo", "--no-progress"],
        cwd=ROOT,
        env={**outer_env(), **PRODUCTION_ENV},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "seed_demo refuses to run under production settings" in result.stderr


def test_seed_demo_refuses_when_not_allowed(settings):
    settings.SEED_DEMO_ALLOWED = False
    with pytest.raises(CommandError, match="SEED_DEMO_ALLOWED=true"):
        call_command("seed_demo", "--no-progress")


# Each with its reason in benchmarks/settings.py; everything else is production's.
BENCHMARK_OPT_OUTS = {
    "ROOT_URLCONF",
    "INSTALLED_APPS",
    "MIDDLEWARE",
    "PASSWORD_HASHERS",
    "SEED_DEMO_ALLOWED",
    "EMAIL_VERIFICATION_REQUIRED",
    "LOGIN_ADDRESS_THROTTLE_RATE",
    "REGISTER_THROTTLE_RATE",
    "BASELINE_EMAIL_SECONDS",
}
SETTINGS_AS_JSON = (
    "import django, json; django.setup(); from django.conf import settings; "
    "print(json.dumps({name: repr(getattr(settings, name)) for name in dir(settings) if name.isupper()}))"
)


def test_the_benchmark_runs_production_settings_but_for_what_it_opts_out_of_by_name(tmp_path: Path):
    stack_env = BenchStack(output_dir=tmp_path, variables=BenchVariables(quick=True)).env()

    def settings_under(module: str) -> dict[str, str]:
        result = subprocess.run(
            [sys.executable, "-c", SETTINGS_AS_JSON],
            cwd=ROOT,
            env={**outer_env(), **stack_env, "DJANGO_SETTINGS_MODULE": module},
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, result.stderr  # the runner's environment satisfies production
        return json.loads(result.stdout)

    production = settings_under("courseproject.settings.production")
    benchmark = settings_under("benchmarks.settings")
    names = (production.keys() | benchmark.keys()) - {"SETTINGS_MODULE"}
    assert {name for name in names if production.get(name) != benchmark.get(name)} == BENCHMARK_OPT_OUTS
    assert benchmark["METRICS_ENABLED"] == "True" and benchmark["REST_FRAMEWORK"] == production["REST_FRAMEWORK"]


def test_requests_skip_djangos_sql_connection_housekeeping(tmp_path: Path):
    # DATABASES is empty: nothing to reset or close around a request (courseproject/dynamo/apps.py).
    # Asked of a fresh process under production's settings: Django's test client puts the receivers
    # back after every request it makes.
    program = (
        "import django; django.setup(); from django.core.signals import request_finished, request_started; "
        "signals = (request_started, request_finished); "
        "print(sorted({r().__name__ for signal in signals for _, r, _ in signal.receivers}))"
    )
    result = subprocess.run(
        [sys.executable, "-c", program],
        cwd=ROOT,
        env={
            **outer_env(),
            **BenchStack(output_dir=tmp_path, variables=BenchVariables(quick=True)).env(),
            "DJANGO_SETTINGS_MODULE": "courseproject.settings.production",
        },
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    receivers = set(json.loads(result.stdout.replace("'", '"')))
    assert "close_caches" in receivers  # Django's own receivers are there: the question is a fair one
    assert not {"reset_queries", "close_old_connections"} & receivers
