"""The password hasher of benchmarks.settings, for every configuration of the benchmark."""

from __future__ import annotations

from django.contrib.auth.hashers import PBKDF2PasswordHasher


class BenchPasswordHasher(PBKDF2PasswordHasher):
    """PBKDF2 as in production, with 1,000 iterations so that signing in 500 simulated users does
    not eat the CPU the benchmark measures (see benchmarks/settings.py)."""

    iterations = 1_000
