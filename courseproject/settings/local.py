"""Settings for `make run` and for a developer's shell against the stack it starts."""

from .base import *  # noqa: F403
from .base import DYNAMODB_ENDPOINT_URL

# DynamoDB Local accepts any credentials but botocore refuses to sign without some.
if DYNAMODB_ENDPOINT_URL:
    AWS_ACCESS_KEY_ID = AWS_ACCESS_KEY_ID or "local"
    AWS_SECRET_ACCESS_KEY = AWS_SECRET_ACCESS_KEY or "local"

# Serve static files (Swagger UI, admin) straight from the apps without collectstatic.
WHITENOISE_USE_FINDERS = True
# No collectstatic here, so no STATIC_ROOT for WhiteNoise to look for (it warns when it is missing).
STATIC_ROOT = None
