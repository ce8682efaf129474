# Taper: two commands for a fresh machine with Python 3.11+.
#   make run   set up, migrate, load synthetic demo data if empty, serve http://127.0.0.1:5000 with the scheduler
#   make test  set up, then run the whole test suite (SQLite; PostgreSQL with TAPER_DATABASE_URL set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= $(or $(TAPER_PORT),5000)
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test lint bench loadtest setup setup-dev libraries browser clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit("Taper needs Python 3.11 or newer") if sys.version_info < (3, 11) else None'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements.txt
	touch $@

$(VENV)/.installed-dev: requirements.txt requirements-dev.txt | $(BIN)/python
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed libraries
setup-dev: $(VENV)/.installed-dev libraries

# WeasyPrint subsets fonts with HarfBuzz's subsetter when it is there (about four times faster than its
# fontTools fallback, and required by its next versions). Installed here when missing and we may (root with
# apt-get, as on CI); otherwise WeasyPrint warns and the tests, which treat warnings as errors, say so.
libraries:
	@if ldconfig -p 2>/dev/null | grep -q libharfbuzz-subset; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing HarfBuzz's subsetter for WeasyPrint"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq libharfbuzz-subset0 >/dev/null; \
	else echo "libharfbuzz-subset0 is not installed: PDFs render slowly (apt-get install libharfbuzz-subset0)"; fi

# Browser tests use Debian's chromium package (never a browser downloaded by a test tool). Installed here
# when missing and we may (root with apt-get, as on CI); otherwise those tests say why they are skipped.
browser: node_modules/.installed
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; \
	else echo "chromium is not installed: browser tests will be skipped (apt-get install chromium)"; fi

# The scheduler (follow-up jobs, reminders) runs as its own process beside the web server, and stops with it.
run: setup
	$(FLASK) db upgrade
	$(FLASK) taper demo-data
	@echo "Taper is starting on http://$(HOST):$(PORT)/ with its scheduler (Ctrl+C to stop both)"
	$(FLASK) taper scheduler & scheduler=$$!; trap 'kill $$scheduler 2>/dev/null; wait $$scheduler' EXIT INT TERM; \
		$(FLASK) run --host $(HOST) --port $(PORT) --no-reload

test: setup-dev browser
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# Start again from fresh demo data (stop `make run` first): deletes the SQLite database and makes it anew with
# the demo data, and refuses, changing nothing, when the database holds anything but demo data.
.PHONY: reset-demo screenshots
reset-demo: setup
	$(FLASK) taper demo-data --reset

# The README's walk-through screenshots (docs/screenshots/), taken by its browser test as it goes.
screenshots: setup-dev browser
	TAPER_SCREENSHOTS=docs/screenshots $(BIN)/python -m pytest tests/e2e/test_walkthrough.py -q

# axe-core (npm) for the accessibility checks in the browser tests; skipped, with a message, without npm.
node_modules/.installed: package.json package-lock.json
	@if command -v npm >/dev/null 2>&1; then npm ci --no-audit --no-fund --silent && touch $@; \
	else echo "npm is not installed: the accessibility checks will be skipped"; fi

lint: setup-dev
	$(BIN)/ruff check .
	$(BIN)/mypy

bench: setup-dev
	$(BIN)/python benchmarks/bench_engine.py
	$(BIN)/python benchmarks/bench_patients.py
	$(BIN)/python benchmarks/bench_documents.py
	$(BIN)/python benchmarks/bench_preview.py
	$(BIN)/python benchmarks/bench_cohort_import.py

# Load test (issue 16): gunicorn with 4 workers on a throwaway PostgreSQL database at 127.0.0.1, filled with
# synthetic data, under locust's simulated users for a bounded time; it stops everything it started
# (benchmarks/loadtest/run.py says what can be set). Needs PostgreSQL and Redis on 127.0.0.1.
# locust has a virtual environment of its own: it brings a pytest plugin and gevent, kept out of the tests'.
LOCUST_VENV := .venv-loadtest

$(LOCUST_VENV)/.installed: requirements-loadtest.txt
	$(PYTHON) -m venv $(LOCUST_VENV)
	$(LOCUST_VENV)/bin/pip install --quiet -r requirements-loadtest.txt
	touch $@

loadtest: setup-dev $(LOCUST_VENV)/.installed
	LOADTEST_LOCUST=$(LOCUST_VENV)/bin/locust $(BIN)/python benchmarks/loadtest/run.py

clean:
	rm -rf $(VENV) $(LOCUST_VENV) .pytest_cache .hypothesis
