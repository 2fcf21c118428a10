"""Users in the admin: lists by role, adding users and changing them through the account services."""

from __future__ import annotations

import pytest
from django.test import Client

from accounts import services as account_services
from accounts.models import Role
from accounts.selectors import user_by_id
from audit.models import AuditRecord
from tests.admin.helpers import USERS, text
from tests.conftest import TEST_PASSWORD, unique_email


class TestUsers:
    def test_lists_users_by_role_and_finds_by_email(self, admin_client, make_person):
        # The list is by email, 50 a page, and the suite makes many instructors: this one comes first.
        instructor = account_services.register_user(
            email=f"0{unique_email('instructor')}", password=TEST_PASSWORD, name="First", role=Role.INSTRUCTOR
        )
        student = make_person(Role.STUDENT)
        instructors = admin_client.get(USERS)  # instructors first
        assert instructor.email in text(instructors)
        assert student.user.email not in text(instructors)
        assert student.user.email in text(admin_client.get(USERS, {"q": student.user.email.upper()}))
        assert student.user.email in text(admin_client.get(USERS, {"q": student.user_id}))

    def test_adds_an_instructor_who_can_then_sign_in(self, admin_client, admin):
        email = unique_email("new-instructor")
        response = admin_client.post(
            f"{USERS}add/",
            {
                "email": email,
                "name": "New Instructor",
                "role": "instructor",
                "password1": "s3cure-pass-phrase",
                "password2": "s3cure-pass-phrase",
            },
        )
        assert response.status_code == 302
        login = Client().post(
            "/api/auth/login", {"email": email, "password": "s3cure-pass-phrase"}, content_type="application/json"
        )
        assert login.json()["user"]["role"] == "instructor"

    @pytest.mark.parametrize(
        ("changes", "field", "message"),
        [
            ({"password2": "something-else-entirely"}, "password2", "didn’t match"),
            ({"password1": "123", "password2": "123"}, "password1", "too short"),
            ({"email": "not-an-email"}, "email", "valid email"),
        ],
    )
    def test_add_shows_validation_messages(self, admin_client, changes, field, message):
        form = {
            "email": unique_email(),
            "name": "Someone",
            "role": "admin",
            "password1": "s3cure-pass-phrase",
            "password2": "s3cure-pass-phrase",
            **changes,
        }
        response = admin_client.post(f"{USERS}add/", form)
        assert response.status_code == 200
        assert any(message in error for error in response.context["form"].errors[field])

    @pytest.mark.parametrize(
        ("name", "message"),
        [("Bell\x07 Ringer", "Control characters are not allowed"), ("x" * 101, "at most 100 characters")],
    )
    def test_names_follow_the_apis_rules(self, admin_client, student, name, message):
        added = admin_client.post(
            f"{USERS}add/",
            {
                "email": unique_email(),
                "name": name,
                "role": "instructor",
                "password1": "s3cure-pass-phrase",
                "password2": "s3cure-pass-phrase",
            },
        )
        changed = admin_client.post(
            f"{USERS}{student.user_id}/change/", {"name": name, "role": "student", "is_active": "on"}
        )
        for response in (added, changed):
            assert response.status_code == 200
            assert any(message in error for error in response.context["form"].errors["name"])
        assert user_by_id(user_id=student.user_id).name == student.user.name

    def test_an_email_is_taken_once(self, admin_client, student):
        form = {
            "email": student.user.email,
            "name": "Dup",
            "role": "admin",
            "password1": "s3cure-pass-phrase",
            "password2": "s3cure-pass-phrase",
        }
        response = admin_client.post(f"{USERS}add/", form)
        assert response.context["form"].errors["email"] == ["A user with this email already exists."]

    def test_promotes_renames_and_deactivates(self, admin_client, student, admin):
        response = admin_client.post(f"{USERS}{student.user_id}/change/", {"name": "Dr. Student", "role": "instructor"})
        assert response.status_code == 302
        user = user_by_id(user_id=student.user_id)
        assert (user.name, user.role, user.is_active) == ("Dr. Student", "instructor", False)
        refreshed = Client().post(
            "/api/auth/login", {"email": student.user.email, "password": TEST_PASSWORD}, content_type="application/json"
        )
        assert refreshed.status_code == 401
        audit = [
            record
            for record in AuditRecord.by_entity.query(f"user#{student.user_id}", scan_index_forward=False)
            if record.action == "updated"
        ]
        assert audit[0].before["is_active"] is True
        assert audit[0].after["is_active"] is False
        assert audit[0].actor_id == admin.user_id

    def test_an_admin_cannot_remove_their_own_access(self, admin_client, admin):
        response = admin_client.post(
            f"{USERS}{admin.user_id}/change/", {"name": "Me", "role": "student", "is_active": "on"}
        )
        assert response.context["form"].errors["role"] == ["You cannot remove your own admin access."]
        assert user_by_id(user_id=admin.user_id).role == "admin"

    def test_the_profile_cache_keeps_the_api_shape(self, admin_client, student):
        admin_client.post(
            f"{USERS}{student.user_id}/change/", {"name": "Renamed", "role": "student", "is_active": "on"}
        )
        profile = student.client.get("/api/auth/me").json()
        assert profile["name"] == "Renamed"
        assert set(profile) == {"user_id", "email", "name", "role", "email_verified", "created_at"}
