"""Account emails with a link: verify an address, reset a password. Sent once per request for one
(the email ledger), with the link's token built here at send time: a secret never travels in task
arguments, logs or the outbox, and a reset link made now reflects the password as it is now."""

from __future__ import annotations

from django.conf import settings

from accounts.links import email_verification_token, link, password_reset_token
from accounts.models import User
from accounts.selectors import user_by_email, user_by_id
from courseproject.background.mail import Email, send_once
from courseproject.background.reliable import background_task

SUBJECTS = {
    "verify_email": "Confirm your email address for course registration",
    "password_reset": "Reset your course registration password",
}


def _link_for(kind: str, user: User) -> str:
    if kind == "verify_email":
        return link(settings.EMAIL_VERIFICATION_URL, email_verification_token(user))
    return link(settings.PASSWORD_RESET_URL, password_reset_token(user))


@background_task("accounts.send_account_email")
def send_account_email(*, event_id: str, kind: str, user_id: str) -> str:
    """Returns what happened, for logs and tests (never the link)."""
    if kind not in SUBJECTS:
        return f"unknown kind {kind!r}"

    def compose() -> Email | str:
        user = user_by_id(user_id=user_id)
        if user is None or not user.is_active or (kind == "verify_email" and user.email_verified):
            return "not needed"
        hours = settings.PASSWORD_RESET_TIMEOUT // 3600
        days = settings.EMAIL_VERIFICATION_TIMEOUT // 86400
        return Email(
            subject=SUBJECTS[kind],
            template=f"accounts/email/{kind}",
            context={"user": user, "link": _link_for(kind, user), "hours": hours, "days": days},
            recipient_name=user.name,
            recipient_address=user.email,
        )

    return send_once(ledger_key=f"email:{kind}:{event_id}", event_id=event_id, compose=compose)


@background_task("accounts.send_password_reset_email")
def send_password_reset_email(*, event_id: str, email: str) -> str:
    """A reset request names an email, not an account: whether one has it is found out here, so the
    request costs the same whether it does or not (no telling which emails have accounts)."""
    user = user_by_email(email=email) if "@" in email else None
    if user is None or not user.is_active:
        return "no active account"
    return send_account_email(event_id=event_id, kind="password_reset", user_id=user.user_id)
