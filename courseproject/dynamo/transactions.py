"""Committing a TransactWriteItems: retried when DynamoDB says "not now", never when our condition failed."""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable

from pynamodb.exceptions import TransactWriteError
from pynamodb.transactions import TransactWrite

from courseproject.api.errors import ConflictError, ServiceUnavailable
from courseproject.dynamo.client import shared_connection

# Cancellation reasons that mean "try again", not "your condition failed".
_RETRYABLE_CANCELLATIONS = {"TransactionConflict", "ThrottlingError", "ProvisionedThroughputExceeded"}
TRANSACTION_ATTEMPTS = 5


def commit_transaction(build: Callable[[TransactWrite], None]) -> None:
    """Commit a TransactWriteItems built by `build`, retrying cancellations that are not our conditions.

    On AWS, concurrent transactions on one hot item (a popular course's seat counter, one email) are
    cancelled with TransactionConflict; a short jittered retry lets them through. Each attempt has
    its own ClientRequestToken, so botocore's resend of an attempt whose answer was lost is a no-op
    at DynamoDB instead of a second write. A condition failure raises at once for the caller to read.
    """
    for attempt in range(1, TRANSACTION_ATTEMPTS + 1):
        try:
            with TransactWrite(connection=shared_connection(), client_request_token=uuid.uuid4().hex) as transaction:
                build(transaction)
            return
        except TransactWriteError as error:
            codes = {reason.code for reason in error.cancellation_reasons if reason is not None}
            if not codes & _RETRYABLE_CANCELLATIONS or "ConditionalCheckFailed" in codes:
                raise
            if attempt == TRANSACTION_ATTEMPTS:
                if "TransactionConflict" in codes:
                    raise ConflictError(
                        "Too many concurrent changes to the same item; please retry.", code="transaction_conflict"
                    ) from None
                raise ServiceUnavailable(code="dynamodb_throttled") from None
            time.sleep(random.uniform(0, 0.01 * 2**attempt))
