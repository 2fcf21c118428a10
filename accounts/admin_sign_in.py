"""Who may use the admin, and how they sign in (the admin site, courseproject/adminsite, is told
to use this form by accounts/admin.py; settings name the middleware).

Users stay in DynamoDB; Django's auth models and database are not used. An admin signs in at
/admin/login/ with the email and password of a DynamoDB user whose role is `admin`. The session
cookie (signed, `SameSite=Strict`) holds the user id, the id of a `SignIn` item, the user's token
version and a hash of the password hash. Every admin request reads the user and the sign-in again
(two consistent GetItems), so signing out (which marks the sign-in ended: a copied cookie stops
working too), a demotion, a deactivation, a password change or "sign out everywhere" ends admin
access at once. Students and instructors are refused with the same message as a wrong password;
attempts are throttled like the API's sign-in, and audited, successes and failures.
"""

from __future__ import annotations

import hmac
import math
from typing import Any

from django import forms
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils import timezone
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

from accounts.models import Actor, Role, SignInKind, User
from accounts.selectors import sign_in_by_id, user_by_id
from accounts.services import check_credentials
from accounts.sign_ins import announce_sign_in, end_sign_in, start_sign_in
from accounts.throttling import login_wait_seconds, refund_login_attempt
from courseproject.api.client import client_address

SESSION_USER_KEY = "_admin_user_id"
SESSION_HASH_KEY = "_admin_auth_hash"
SESSION_SIGN_IN_KEY = "_admin_sign_in_id"
SESSION_VERSION_KEY = "_admin_token_version"


class AdminPrincipal:
    """`request.user` on admin pages: what Django's admin templates and checks ask of a user."""

    is_authenticated = True
    is_anonymous = False

    def __init__(self, user: User) -> None:
        self.user_id: str = user.user_id
        self.pk = user.user_id
        self.email: str = user.email
        self.name: str = user.name
        self.role: str = user.role
        self.is_active: bool = bool(user.is_active)
        self.is_staff = self.is_superuser = self.is_active and self.role == Role.ADMIN

    def __str__(self) -> str:
        return self.email

    @property
    def actor(self) -> Actor:
        return Actor(user_id=self.user_id, role=self.role)

    def get_username(self) -> str:
        return self.email

    def get_short_name(self) -> str:
        return self.name

    def get_full_name(self) -> str:
        return self.name

    def has_usable_password(self) -> bool:
        # Hides Django's password-change link, which needs its own user table.
        return False

    def has_perm(self, perm: str, obj: Any = None) -> bool:
        return self.is_staff

    def has_perms(self, perm_list: Any, obj: Any = None) -> bool:
        return self.is_staff

    def has_module_perms(self, app_label: str) -> bool:
        return self.is_staff


def session_auth_hash(password_hash: str) -> str:
    return salted_hmac("courseproject.adminsite.session", password_hash, algorithm="sha256").hexdigest()


def _session_holds(request: HttpRequest, user: User | None) -> bool:
    sign_in_id = request.session.get(SESSION_SIGN_IN_KEY)
    if user is None or not isinstance(sign_in_id, str):
        return False
    sign_in = sign_in_by_id(sign_in_id=sign_in_id)
    return (
        sign_in is not None
        and sign_in.revoked_at is None
        and sign_in.expires_at > timezone.now()
        and sign_in.user_id == user.user_id
        and request.session.get(SESSION_VERSION_KEY) == int(user.token_version)
        and hmac.compare_digest(str(request.session.get(SESSION_HASH_KEY, "")), session_auth_hash(user.password_hash))
    )


def principal_for(request: HttpRequest) -> AdminPrincipal | AnonymousUser:
    user_id = request.session.get(SESSION_USER_KEY)
    if not user_id:
        return AnonymousUser()
    user = user_by_id(user_id=user_id)
    if not _session_holds(request, user):
        request.session.flush()
        return AnonymousUser()
    return AdminPrincipal(user)


class AdminAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's middleware (the admin checks for it), with our session lookup. The user is read
    only when a view asks for it: API requests authenticate with bearer tokens and never do."""

    def process_request(self, request: HttpRequest) -> None:
        request.user = SimpleLazyObject(lambda: principal_for(request))


def sign_in(request: HttpRequest, user: User) -> None:
    admin_sign_in = start_sign_in(user, kind=SignInKind.ADMIN, client_address=client_address(request))
    # A new session key and CSRF token on sign-in, against session fixation.
    request.session.cycle_key()
    request.session[SESSION_USER_KEY] = user.user_id
    request.session[SESSION_HASH_KEY] = session_auth_hash(user.password_hash)
    request.session[SESSION_SIGN_IN_KEY] = admin_sign_in.sign_in_id
    request.session[SESSION_VERSION_KEY] = int(user.token_version)
    rotate_token(request)
    request.user = AdminPrincipal(user)


def sign_out(request: HttpRequest) -> None:
    """End the session's sign-in server-side, so the cookie is worthless even if it was copied."""
    sign_in_id = request.session.get(SESSION_SIGN_IN_KEY)
    admin_sign_in = sign_in_by_id(sign_in_id=sign_in_id) if isinstance(sign_in_id, str) else None
    if admin_sign_in is not None and admin_sign_in.user_id == request.session.get(SESSION_USER_KEY):
        end_sign_in(admin_sign_in, client_address=client_address(request))


class AdminLoginForm(forms.Form):
    """The admin's login template renders `username` and `password`; the username is the email."""

    error_messages = {
        "invalid_login": "Please enter the correct email and password for an admin account. "
        "Note that both fields may be case-sensitive.",
        "throttled": "Too many sign-in attempts. Try again in %(wait)s seconds.",
    }

    username = forms.EmailField(label="Email", max_length=254, widget=forms.EmailInput(attrs={"autofocus": True}))
    password = forms.CharField(label="Password", strip=False, max_length=4096, widget=forms.PasswordInput)

    def __init__(self, request: HttpRequest | None = None, *args: Any, **kwargs: Any) -> None:
        self.request = request
        self.user: User | None = None
        super().__init__(*args, **kwargs)

    def clean(self) -> dict[str, Any]:
        cleaned = super().clean()
        email, password = cleaned.get("username"), cleaned.get("password")
        if not email or not password:
            return cleaned
        # The API's two sign-in limits (per address, failures per account), before the password hash.
        wait = login_wait_seconds(client_address=client_address(self.request), email=email) if self.request else 0
        if wait:
            raise forms.ValidationError(
                self.error_messages["throttled"], code="throttled", params={"wait": math.ceil(wait)}
            )
        user, valid = check_credentials(email=email, password=password)
        if valid:
            refund_login_attempt(email=email)  # the attempt taken before the hash was no failure
        if not valid or user is None or user.role != Role.ADMIN:
            if self.request is not None:
                announce_sign_in(
                    user_id=user.user_id if user else None,
                    action="sign_in_failed",
                    kind=SignInKind.ADMIN,
                    client_address=client_address(self.request),
                    email=None if user else email.strip().lower()[:254],
                )
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        self.user = user
        return cleaned

    def get_user(self) -> User | None:
        return self.user


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in admin, as the services take them."""
    return request.user.actor
