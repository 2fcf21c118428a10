"""An email backend for Amazon SES's API (SendRawEmail), using the process's AWS credentials.

EMAIL_BACKEND=courseproject.email.SESEmailBackend and AWS_SES_REGION select it. SES's SMTP
interface with Django's SMTP backend works as well; the API needs no SMTP password.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import boto3
from django.conf import settings
from django.core.mail.backends.base import BaseEmailBackend
from django.core.mail.message import EmailMessage


class SESEmailBackend(BaseEmailBackend):
    def __init__(self, fail_silently: bool = False, **kwargs: Any) -> None:
        super().__init__(fail_silently=fail_silently, **kwargs)
        self._client: Any = None

    def open(self) -> bool:
        if self._client is None:
            self._client = boto3.client("ses", region_name=settings.AWS_SES_REGION)
            return True
        return False

    def close(self) -> None:
        self._client = None

    def send_messages(self, email_messages: Sequence[EmailMessage]) -> int:
        if not email_messages:
            return 0
        self.open()
        sent = 0
        for message in email_messages:
            try:
                self._client.send_raw_email(
                    Source=message.from_email,
                    Destinations=message.recipients(),
                    RawMessage={"Data": message.message().as_bytes(linesep="\r\n")},
                )
            except Exception:
                if not self.fail_silently:
                    raise
                continue
            sent += 1
        return sent
