"""An email backend for Amazon SES's API (SendRawEmail), using the process's AWS credentials.

EMAIL_BACKEND=courseproject.background.email.SESEmailBackend and AWS_SES_REGION select it. SES's SMTP
interface with Django's SMTP backend works as well; the API needs no SMTP password.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
from botocore.exceptions import ClientError
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage, sanitize_address

# SES refusals that no retry will change (the message or the sender is at fault).
PERMANENT_ERRORS = {"MessageRejected", "MailFromDomainNotVerifiedException", "ConfigurationSetDoesNotExistException"}

_client: Any = None


class PermanentEmailError(Exception):
    """SES refused the message for good; retrying would not help."""


def ses_client() -> Any:
    global _client
    if _client is None:
        _client = boto3.client("ses", region_name=settings.AWS_SES_REGION)
    return _client


class SESEmailBackend(BaseEmailBackend):
    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        sent = 0
        for message in email_messages:
            encoding = message.encoding or settings.DEFAULT_CHARSET
            try:
                ses_client().send_raw_email(
                    Source=sanitize_address(message.from_email, encoding),
                    Destinations=[sanitize_address(address, encoding) for address in message.recipients()],
                    RawMessage={"Data": message.message().as_bytes(linesep="\r\n")},
                )
            except ClientError as error:
                if self.fail_silently:
                    continue
                if error.response.get("Error", {}).get("Code") in PERMANENT_ERRORS:
                    raise PermanentEmailError(str(error)) from error
                raise
            sent += 1
        return sent
