"""Once-only side effects for at-least-once tasks.

A task may run twice (a worker died before acknowledging it). Database writes are made idempotent by
their keys; an email is not, so the task claims a ledger entry with a conditional write before
sending and marks it done after. A claim expires (its lease) so that a worker dying mid-send does
not block the email forever; the one case left is a worker dying after the mail server accepted
the message and before `complete`, which sends it twice rather than never.
"""

from __future__ import annotations

from datetime import timedelta
from enum import StrEnum

from django.utils import timezone
from pynamodb.exceptions import DeleteError, PutError

from courseproject.models import TaskLedgerEntry

LEDGER_RETENTION = timedelta(days=30)


class Claim(StrEnum):
    CLAIMED = "claimed"  # go ahead
    DONE = "done"  # already performed: skip
    BUSY = "busy"  # another worker holds a live claim: try again later


def claim(ledger_key: str, *, lease_seconds: int) -> Claim:
    now = timezone.now()
    entry = TaskLedgerEntry(
        ledger_key=ledger_key,
        status=Claim.CLAIMED.value,
        claimed_until=now + timedelta(seconds=lease_seconds),
        expires_at=now + LEDGER_RETENTION,
    )
    free = TaskLedgerEntry.ledger_key.does_not_exist() | (
        (TaskLedgerEntry.status == Claim.CLAIMED.value) & (TaskLedgerEntry.claimed_until < now)
    )
    try:
        entry.save(condition=free)
    except PutError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
        current = TaskLedgerEntry.get(ledger_key, consistent_read=True)
        return Claim.DONE if current.status == Claim.DONE.value else Claim.BUSY
    return Claim.CLAIMED


def complete(ledger_key: str) -> None:
    TaskLedgerEntry(ledger_key).update(
        actions=[TaskLedgerEntry.status.set(Claim.DONE.value), TaskLedgerEntry.completed_at.set(timezone.now())]
    )


def release(ledger_key: str) -> None:
    """Give up a claim after a failed attempt, so the retry need not wait for the lease to run out."""
    try:
        TaskLedgerEntry(ledger_key).delete(condition=TaskLedgerEntry.status == Claim.CLAIMED.value)
    except DeleteError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
