"""Announcing a committed write. The write has happened whatever a receiver does, so a failing
receiver is logged and never turns the caller's success into an error."""

from __future__ import annotations

import logging
from typing import Any

from django.dispatch import Signal

logger = logging.getLogger(__name__)


def announce(signal: Signal, *, sender: type, **kwargs: Any) -> None:
    for receiver, result in signal.send_robust(sender=sender, **kwargs):
        if isinstance(result, Exception):
            logger.error(
                "Receiver %s of %s failed after a committed write",
                getattr(receiver, "__qualname__", receiver),
                sender.__name__,
                exc_info=(type(result), result, result.__traceback__),
            )
