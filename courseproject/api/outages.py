"""Telling DynamoDB's own failures from the request's: those become a 503 wherever they surface
(kept free of DRF, unlike errors.py, so that the authentication, which DRF imports while it starts
up, can use it too)."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError
from pynamodb.exceptions import PynamoDBException

# DynamoDB answered, but with "not now": retries inside botocore were already spent.
_DYNAMODB_UNAVAILABLE_CODES = {
    "ProvisionedThroughputExceededException",
    "ThrottlingException",
    "RequestLimitExceeded",
    "InternalServerError",
    "ServiceUnavailable",
}


def is_dynamodb_outage(exc: Exception) -> bool:
    """True for failures of DynamoDB itself (unreachable, throttled), not of the request."""
    if isinstance(exc, BotoCoreError):
        return True
    if isinstance(exc, PynamoDBException):
        if isinstance(exc.cause, BotoCoreError):
            return True
        return exc.cause_response_code in _DYNAMODB_UNAVAILABLE_CODES
    if isinstance(exc, ClientError):
        return exc.response.get("Error", {}).get("Code") in _DYNAMODB_UNAVAILABLE_CODES
    return False
