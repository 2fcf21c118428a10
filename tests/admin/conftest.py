"""The admin tests' fixture: a client signed in as an admin."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.admin.helpers import signed_in
from tests.conftest import Person


@pytest.fixture
def admin_client(admin: Person) -> Client:
    return signed_in(admin)
