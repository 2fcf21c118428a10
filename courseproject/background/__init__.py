"""Background work: handing tasks to Celery after a committed write (dispatch), the outbox that
keeps what the broker could not take, the task decorator with retries and dead letters, the ledger
that makes a side effect happen once, announcing committed writes, and the SES email backend."""
