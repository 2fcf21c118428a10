"""Who may use the admin, and how they sign in (the admin site, courseproject/adminsite, is told
to use this form by accounts/admin.py; settings name the middleware).

Users stay in DynamoDB; Django's auth models and database are not used. An admin signs in at
/admin/login/ with the email and password of a DynamoDB user whose role is `admin`. The session
(a signed cookie, so any app instance can read it and nothing is stored server-side) holds the
user id and a hash of the password hash. Every admin request reads the user again (one
consistent GetItem), so a demotion, a deactivation or a password change ends admin access at once.
Students and instructors are refused with the same message as a wrong password, and attempts are
throttled like the API's login (LOGIN_THROTTLE_RATE, per client address and email).
"""

from __future__ import annotations

import hmac
from typing import Any

from django import forms
from django.contrib.auth.middleware import AuthenticationMiddleware
from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest
from django.middleware.csrf import rotate_token
from django.utils.crypto import salted_hmac
from django.utils.functional import SimpleLazyObject

from accounts.models import Actor, Role, User
from accounts.selectors import user_by_id
from accounts.services import authenticate
from accounts.throttling import LoginRateThrottle

SESSION_USER_KEY = "_admin_user_id"
SESSION_HASH_KEY = "_admin_auth_hash"


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


def principal_for(request: HttpRequest) -> AdminPrincipal | AnonymousUser:
    user_id = request.session.get(SESSION_USER_KEY)
    if not user_id:
        return AnonymousUser()
    user = user_by_id(user_id=user_id)
    if user is None or not hmac.compare_digest(
        request.session.get(SESSION_HASH_KEY, ""), session_auth_hash(user.password_hash)
    ):
        request.session.flush()
        return AnonymousUser()
    return AdminPrincipal(user)


class AdminAuthenticationMiddleware(AuthenticationMiddleware):
    """Django's middleware (the admin checks for it), with our session lookup. The user is read
    only when a view asks for it: API requests authenticate with bearer tokens and never do."""

    def process_request(self, request: HttpRequest) -> None:
        request.user = SimpleLazyObject(lambda: principal_for(request))


def sign_in(request: HttpRequest, user: User) -> None:
    # A new session key and CSRF token on sign-in, against session fixation.
    request.session.cycle_key()
    request.session[SESSION_USER_KEY] = user.user_id
    request.session[SESSION_HASH_KEY] = session_auth_hash(user.password_hash)
    rotate_token(request)
    request.user = AdminPrincipal(user)


class _ThrottleRequest:
    """What LoginRateThrottle reads of a request, for a form post instead of a DRF request."""

    def __init__(self, request: HttpRequest, email: str) -> None:
        self.META = request.META
        self.headers = request.headers
        self.data = {"email": email}


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
        throttle = LoginRateThrottle()
        if self.request is not None and not throttle.allow_request(_ThrottleRequest(self.request, email), None):
            wait = int(throttle.wait() or 60)
            raise forms.ValidationError(self.error_messages["throttled"], code="throttled", params={"wait": wait})
        user = authenticate(email=email, password=password)
        if user is None or user.role != Role.ADMIN:
            raise forms.ValidationError(self.error_messages["invalid_login"], code="invalid_login")
        self.user = user
        return cleaned

    def get_user(self) -> User | None:
        return self.user


def actor_of(request: HttpRequest) -> Actor:
    """The signed-in admin, as the services take them."""
    return request.user.actor
