# One image for every process: web, worker, beat, the release task and one-off manage.py commands,
# chosen by the first argument (courseproject/container.py). Build: docker build -t registration .

# The builder installs the runtime requirements (never the dev ones) into a virtualenv; every one
# has a manylinux wheel, so no compiler is needed, and --only-binary keeps it that way.
FROM python:3.11-slim-bookworm AS builder
ENV PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
COPY requirements/base.txt /tmp/requirements.txt
RUN /opt/venv/bin/pip install --no-cache-dir --only-binary=:all: -r /tmp/requirements.txt

FROM python:3.11-slim-bookworm
# The image is for AWS: production settings, which refuse to start without their secrets (injected
# by the task definition, never built in). HOST: reachable from the load balancer, not loopback.
# WEB_ACCESS_LOG: the application writes one JSON line per request. Beat's schedule goes to /tmp:
# the app directory belongs to root.
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_SETTINGS_MODULE=courseproject.settings.production \
    HOST=0.0.0.0 \
    PORT=8000 \
    WEB_ACCESS_LOG=false \
    CELERY_BEAT_SCHEDULE_FILENAME=/tmp/celerybeat-schedule
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --no-create-home --home-dir /nonexistent --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=builder /opt/venv /opt/venv
COPY . .
# The base settings need no secrets and have production's STATIC_ROOT; whitenoise serves the result.
RUN DJANGO_SETTINGS_MODULE=courseproject.settings.base python manage.py collectstatic --noinput
# Numeric, so that a runtime can verify it is not root without reading the image's /etc/passwd.
USER 10001:10001
EXPOSE 8000
ENTRYPOINT ["python", "-m", "courseproject.container"]
CMD ["web"]
