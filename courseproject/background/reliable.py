"""`background_task`: the Celery task decorator with the reliability options every task here shares.

Tasks are acknowledged late and requeued when their worker is lost, retried with exponential
backoff and full jitter on transient errors, and kept in the outbox where Celery would drop them: a
retry the broker refuses, and a final failure, which becomes a dead letter for an operator
(`manage.py relay_outbox --dead` re-queues them). Task bodies are idempotent and take `event_id`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from smtplib import SMTPException
from typing import Any

from botocore.exceptions import BotoCoreError, ClientError
from celery import Task, shared_task
from celery.exceptions import Reject, SoftTimeLimitExceeded
from django.conf import settings
from pynamodb.exceptions import PynamoDBException
from redis.exceptions import RedisError

from courseproject.background.outbox import save_to_outbox

logger = logging.getLogger(__name__)

# Failures worth retrying: the dependency may answer on the next try.
TRANSIENT_ERRORS = (PynamoDBException, BotoCoreError, ClientError, RedisError, SMTPException, OSError)


class RetryLater(Exception):
    """Raised by a task that must wait for something (another worker's claim) and be retried."""


class ReliableTask(Task):
    """Keeps a task in the outbox where Celery would drop it: a retry that cannot be published,
    and a final failure (out of retries, over a time limit), which becomes a dead letter."""

    def retry(self, *args: Any, **kwargs: Any) -> Any:
        try:
            return super().retry(*args, **kwargs)
        except Reject as rejection:  # the broker refused the retry; Celery would drop the message
            save_to_outbox(
                task_name=self.name,
                event_id=self.request.kwargs["event_id"],
                task_kwargs=self.request.kwargs,
                reason=f"retry not published: {rejection.reason}",
            )
            raise

    def on_failure(self, exc: BaseException, task_id: str, args: tuple, kwargs: dict, einfo: Any) -> None:
        logger.error("Task %s[%s] failed for good, kept as a dead letter: %r", self.name, task_id, exc)
        save_to_outbox(
            task_name=self.name,
            event_id=kwargs["event_id"],
            task_kwargs=kwargs,
            dead=True,
            reason=f"{type(exc).__name__}: {exc}"[:1000],
        )


def background_task(name: str) -> Callable[[Callable[..., Any]], Task]:
    """A Celery task that is acknowledged late, requeued on worker loss, retried with exponential
    backoff and full jitter on transient errors (and a soft time limit), and kept as a dead letter
    when it fails for good. Its body must be idempotent and take `event_id`."""
    return shared_task(
        name=name,
        base=ReliableTask,
        acks_late=True,
        reject_on_worker_lost=True,
        autoretry_for=(*TRANSIENT_ERRORS, RetryLater, SoftTimeLimitExceeded),
        retry_backoff=True,
        retry_backoff_max=settings.CELERY_RETRY_BACKOFF_MAX_SECONDS,
        retry_jitter=True,
        max_retries=settings.CELERY_TASK_MAX_RETRIES,
    )
