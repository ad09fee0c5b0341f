# SecureBank portal. `make run` starts the portal with demo data; `make test` runs the whole suite.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= 8000

# The test suite runs on PostgreSQL and Redis; override these to point elsewhere. The suite connects as the
# owner of the test database (a superuser by default: it creates and flushes the database, and tests that
# play the attacker turn triggers off); tests/portal/test_db_roles.py connects as the runtime role as well,
# after `manage.py db_roles`. `make roles` creates the owner and runtime roles if missing (through
# PG_ADMIN_URL, a superuser); `make bench` runs the portal with both.
PG_ADMIN_URL ?= postgres://postgres@127.0.0.1:5432/postgres
DB_OWNER_ROLE ?= securebank_owner
DB_RUNTIME_ROLE ?= securebank_app
TEST_DATABASE_URL ?= postgres://postgres@127.0.0.1:5432/securebank
TEST_REDIS_URL ?= redis://127.0.0.1:6379/15
TEST_ENV := DATABASE_URL=$(TEST_DATABASE_URL) DATABASE_RUNTIME_ROLE=$(DB_RUNTIME_ROLE) CONN_MAX_AGE=0 \
	REDIS_URL=$(TEST_REDIS_URL) CACHE_KEY_PREFIX=test \
	SECRET_KEY=test-only-secret-key AUDIT_HMAC_KEY=test-only-audit-hmac-key-32-chars-long \
	OTP_ENCRYPTION_KEY=bqhDnW_VGid1GZcjOJlDdYSsr8DWJnsMxhDmYH04r5M= DEBUG=0 HTTPS=0 \
	ALLOWED_HOSTS=localhost,127.0.0.1,testserver SEEDING_ENABLED=1

.PHONY: install run test roles lint fmt clean vendor vendor-plotly bench bench-history bench-insights bench-statements \
	bench-statement-fanout profile lighthouse

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: $(BIN)/python pyproject.toml requirements.lock
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -c requirements.lock -e '.[dev]'
	touch $@

install: $(VENV)/.installed

# Debug mode is asked for here only (settings: DEBUG is off unless DEBUG=1).
run: export DEBUG = 1
run: install
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py seed_demo
	@echo ""
	@echo "  SecureBank portal: http://$(HOST):$(PORT)/"
	@echo "  Demo logins: alice@example.com, bob@example.com, charlie@example.com"
	@echo "  Password:    $$($(BIN)/python -c 'from portal.seeding import DEMO_PASSWORD; print(DEMO_PASSWORD)')"
	@echo "  Ctrl-C stops the web server, the Celery worker and beat."
	@echo ""
	HOST=$(HOST) PORT=$(PORT) $(BIN)/honcho start -f Procfile

test: install roles
	$(TEST_ENV) $(BIN)/pytest $(PYTEST_ARGS)

# The owner (owns the tables, may create databases) and the runtime role (portal/dbroles.py), if missing.
roles:
	psql "$(PG_ADMIN_URL)" -q -v ON_ERROR_STOP=1 -v owner=$(DB_OWNER_ROLE) -v runtime=$(DB_RUNTIME_ROLE) -f .ci/roles.sql

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
	$(MAKE) vendor-plotly

# plotly.js from the plotly Python package (the version the figures are built with), and the stylesheet it
# would otherwise inject as inline <style> (the CSP refuses it): its own rules, read out of the bundle, for
# static/js/insights.js to link as <link id="plotly.js-style-global" class="no-inline-styles">.
PLOTLY_JS = $(shell $(BIN)/python -c 'import plotly, pathlib; print(pathlib.Path(plotly.__file__).parent / "package_data" / "plotly.min.js")')
vendor-plotly:
	cp $(PLOTLY_JS) static/js/plotly.min.js
	node tools/plotly_css.js static/js/plotly.min.js > static/css/plotly.css

# Benchmarks (not part of `make test`): gunicorn + PostgreSQL + Redis under wrk, against anchors from one run.
BENCH_ARGS ?=
bench: install roles
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# The history page at 10,000,000 entries against a 10,000-entry account, and the CSV export of 1,000,000 rows
# (bench/history.py: its own database, securebank_bench_history; about 6 minutes with the seed).
bench-history: install roles
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/history.py $(HISTORY_ARGS)

# The insights page of a million-entry account, warm and cold, against a trivial view (bench/insights.py).
INSIGHTS_ARGS ?=
bench-insights: install roles
	@command -v wrk >/dev/null || apt-get install -y -qq wrk
	$(BIN)/python bench/insights.py $(INSIGHTS_ARGS)

# A statement's generation (CSV and PDF) for a 1,000-entry and a 100,000-entry period of one account, with peak
# memory (bench/statements.py: its own database, securebank_bench_statements; a few minutes with the seed).
STATEMENTS_ARGS ?=
bench-statements: install roles
	$(BIN)/python bench/statements.py $(STATEMENTS_ARGS)

# The monthly statements' fan-out for 100,000 customer accounts: seconds until 100,000 statements exist and
# their generate tasks wait in the broker (bench/statement_fanout.py: its own database,
# securebank_bench_fanout, and Redis database 13, BENCH_FANOUT_REDIS_URL; about two minutes with the load).
FANOUT_ARGS ?=
bench-statement-fanout: install roles
	$(BIN)/python bench/statement_fanout.py $(FANOUT_ARGS)

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
