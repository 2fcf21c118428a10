"""The admin site over DynamoDB, through Django's test client, one module a section: sign-in, every list and
form, and the actions, each going through the same services (and so the same rules, caches and audit) as
the API. Shared: helpers.py (addresses, reading responses), conftest.py (a signed-in admin client)."""
