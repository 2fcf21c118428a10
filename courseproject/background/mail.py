"""Sending an email once from an at-least-once task: the ledger's claim, the message in text and
HTML from a pair of templates, and the claim completed (or released for the retry if sending failed)."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass
from email.utils import formataddr
from typing import Any

from django.conf import settings
from django.core.mail import EmailMultiAlternatives
from django.template.loader import render_to_string

from courseproject.background import ledger
from courseproject.background.reliable import RetryLater


@dataclass(frozen=True)
class Email:
    subject: str
    # Without the extension: `<template>.txt` is the body, `<template>.html` its alternative.
    template: str
    context: dict[str, Any]
    recipient_name: str
    recipient_address: str


def send_once(*, ledger_key: str, event_id: str, compose: Callable[[], Email | str]) -> str:
    """Send what `compose` gives (read after the claim, so a repeat reads nothing), or nothing when it
    gives a reason instead; returns what happened, for logs and tests."""
    owner = uuid.uuid4().hex
    # Longer than the task may run, so a live send is never taken over.
    claim = ledger.claim(ledger_key, owner=owner, lease_seconds=settings.CELERY_TASK_TIME_LIMIT + 30)
    if claim == ledger.Claim.DONE:
        return "already sent"
    if claim == ledger.Claim.BUSY:
        raise RetryLater(f"{ledger_key} is being sent by another worker")
    email = compose()
    if isinstance(email, str):
        ledger.complete(ledger_key, owner=owner)
        return email
    message = EmailMultiAlternatives(
        subject=email.subject,
        body=render_to_string(f"{email.template}.txt", email.context),
        to=[formataddr((email.recipient_name, email.recipient_address))],
        headers={"X-Course-Registration-Event": event_id},
    )
    message.attach_alternative(render_to_string(f"{email.template}.html", email.context), "text/html")
    try:
        message.send()
    except Exception:
        ledger.release(ledger_key, owner=owner)
        raise
    ledger.complete(ledger_key, owner=owner)
    return "sent"
