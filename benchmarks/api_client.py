"""The few API calls the runner makes itself (signing in, reading a page of courses, moving a
semester's opening), with urllib: this process must not import requests (see benchmarks/run.py)."""

from __future__ import annotations

import json
import time
import urllib.request
from typing import Any

from demo.logins import DEMO_PASSWORD


def sign_in(url: str, email: str) -> str:
    """An access token for a demo user."""
    request = urllib.request.Request(
        f"{url}/api/auth/login",
        data=json.dumps({"email": email, "password": DEMO_PASSWORD}).encode(),
        headers={"Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())["access"]


def patch_json(url: str, token: str, body: dict[str, Any]) -> Any:
    request = urllib.request.Request(
        url,
        data=json.dumps(body).encode(),
        method="PATCH",
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=30) as response:
        return json.loads(response.read())


def get_json(url: str, token: str) -> Any:
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"})
    # The baseline's Scans of 100,000 courses take tens of seconds.
    with urllib.request.urlopen(request, timeout=300) as response:
        return json.loads(response.read())


def timed_get(url: str, token: str) -> float:
    """Milliseconds for one GET, answer read and decoded."""
    started = time.perf_counter()
    get_json(url, token)
    return (time.perf_counter() - started) * 1000
