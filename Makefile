# Taper: two commands for a fresh machine with Python 3.11+.
#   make run   set up, migrate, load synthetic demo data if empty, serve http://127.0.0.1:5000
#   make test  set up, then run the whole test suite (SQLite; PostgreSQL with TAPER_DATABASE_URL set)

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
HOST ?= 127.0.0.1
PORT ?= $(or $(TAPER_PORT),5000)
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test setup setup-dev clean

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

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

run: setup
	$(FLASK) db upgrade
	$(FLASK) taper demo-data
	@echo "Taper is starting on http://$(HOST):$(PORT)/ (Ctrl+C to stop)"
	$(FLASK) run --host $(HOST) --port $(PORT) --no-reload

test: setup-dev
	$(BIN)/python -m pytest $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
