"""The "before" implementation the benchmark compares against, mounted only by benchmarks.settings
under /baseline/api/: the same endpoints and response shapes as the product, done the old way.

- every request creates its own boto3 client (no shared pool, no keep-alive between requests);
- every list is a full-table Scan with a FilterExpression, then sorted and sliced in Python;
- lists that embed other items read them with one GetItem per row;
- no cache;
- DRF serializers render every response;
- an enroll sends its confirmation email inline (an SMTP round trip of BASELINE_EMAIL_SECONDS).

Writes keep the product's transactional conditions, so the three benchmark configurations share one
consistent dataset. Nothing outside benchmarks/ imports this package.

Like the product's apps: courses.py, enrollments.py (rosters too) and accounts.py hold the views,
dynamodb.py the old way of reading (a client per request, Scans, a GetItem per row) and
pagination.py the old offset cursors.
"""
