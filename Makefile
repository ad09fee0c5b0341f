# SecureBank portal. `make run` starts the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on PostgreSQL and Redis; override these to point elsewhere.
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/securebank
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) REDIS_URL=$(TEST_REDIS_URL) CACHE_KEY_PREFIX=test \
	SECRET_KEY=test-only-secret-key OTP_ENCRYPTION_KEY=bqhDnW_VGid1GZcjOJlDdYSsr8DWJnsMxhDmYH04r5M= DEBUG=0 HTTPS=0 ALLOWED_HOSTS=localhost,127.0.0.1,testserver

.PHONY: install run test lint fmt clean vendor bench profile lighthouse

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  SecureBank portal: http://$(HOST):$(PORT)/"
	@echo "  Demo logins: alice@example.com, bob@example.com, charlie@example.com"
	@echo "  Password:    $$($(BIN)/python -c 'from portal.demo import DEMO_PASSWORD; print(DEMO_PASSWORD)')"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat."
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: install
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

clean:
	rm -rf var/ .pytest_cache

# Front-end assets are vendored into static/ from registry packages (never a CDN); this refreshes them.
HTMX_VERSION ?= 2.0.11
vendor:
	rm -rf var/vendor && mkdir -p var/vendor
	cd var/vendor && npm pack --silent htmx.org@$(HTMX_VERSION) && tar xzf htmx.org-$(HTMX_VERSION).tgz
	cp var/vendor/package/dist/htmx.min.js static/js/htmx.min.js

# Benchmarks (not part of `make test`): gunicorn + PostgreSQL + Redis under wrk, against anchors from one run.
BENCH_ARGS ?=
bench: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Where the gunicorn workers spend their time under load (py-spy); reuses the database of the last `make bench`.
profile: install
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/profile.py $(PROFILE_ARGS)

# Lighthouse 12.2.3 (pinned in bench/lighthouse/) with Debian's Chromium against gunicorn over TLS; reuses the
# database of the last `make bench`.
bench/lighthouse/node_modules/.bin/lighthouse: bench/lighthouse/package-lock.json
	cd bench/lighthouse && npm ci --no-audit --no-fund --silent

lighthouse: install bench/lighthouse/node_modules/.bin/lighthouse
	@command -v chromium >/dev/null || apt-get install -y -qq chromium
	CHROME_PATH=/usr/bin/chromium $(BIN)/python bench/lighthouse.py $(LIGHTHOUSE_ARGS)
