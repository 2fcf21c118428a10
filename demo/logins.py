"""How the demo's people sign in: one password for every demo account, emails at one domain. No
Django here: `make run` (devstack/run.py) prints them before Django is set up."""

from __future__ import annotations

import os

DEMO_PASSWORD = os.environ.get("DEMO_PASSWORD", "registration-demo")
DEMO_EMAIL_DOMAIN = "demo.edu"
