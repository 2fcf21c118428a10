"""Once-only side effects for at-least-once tasks.

A task may run twice (a worker died before acknowledging it). Database writes are made idempotent by
their keys; an email is not, so the task claims a ledger entry with a conditional write before
sending and marks it done after. A claim carries its owner's token, so only the owner completes or
releases it, and expires after a lease longer than a task may run, so that a worker dying mid-send
does not block the email forever. The case left is a worker dying after the mail server accepted
the message and before `complete`: the email is sent twice rather than never.
"""

from __future__ import annotations

import time
from datetime import timedelta
from enum import StrEnum

from django.utils import timezone
from pynamodb.exceptions import DeleteError, PutError, UpdateError

from courseproject.background.models import TaskLedgerEntry

LEDGER_RETENTION = timedelta(days=30)


class Claim(StrEnum):
    CLAIMED = "claimed"  # go ahead
    DONE = "done"  # already performed: skip
    BUSY = "busy"  # another worker holds a live claim: try again later


def claim(ledger_key: str, *, owner: str, lease_seconds: int) -> Claim:
    now = timezone.now()
    entry = TaskLedgerEntry(
        ledger_key=ledger_key,
        status=Claim.CLAIMED.value,
        owner=owner,
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


def complete(ledger_key: str, *, owner: str, attempts: int = 5) -> None:
    """Mark the side effect done. Retried here, not by re-running the task, which would repeat it."""
    for attempt in range(1, attempts + 1):
        try:
            TaskLedgerEntry(ledger_key).update(
                actions=[
                    TaskLedgerEntry.status.set(Claim.DONE.value),
                    TaskLedgerEntry.completed_at.set(timezone.now()),
                ],
                condition=TaskLedgerEntry.owner == owner,
            )
            return
        except UpdateError as error:
            if error.cause_response_code == "ConditionalCheckFailedException" or attempt == attempts:
                raise
            time.sleep(0.2 * attempt)


def release(ledger_key: str, *, owner: str) -> None:
    """Give up a claim after a failed attempt, so the retry need not wait for the lease to run out."""
    try:
        TaskLedgerEntry(ledger_key).delete(
            condition=(TaskLedgerEntry.status == Claim.CLAIMED.value) & (TaskLedgerEntry.owner == owner)
        )
    except DeleteError as error:
        if error.cause_response_code != "ConditionalCheckFailedException":
            raise
