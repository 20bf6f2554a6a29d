# Two commands do all set-up on a fresh Debian machine with Python 3.11:
#   make run    create the environment, migrate, seed demo staff, serve on http://127.0.0.1:8000
#   make test   install what the tests need, lint, run the suite on SQLite then on PostgreSQL + Redis
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-stamp
PYTEST_ARGS ?=

.PHONY: install run serve test test-sqlite test-postgres lint format i18n screenshots browser services totp bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -q --disable-pip-version-check -r requirements.lock
	$(BIN)/pip install -q --disable-pip-version-check --no-deps -e .
	touch $(STAMP)

install: $(STAMP)

run: install
	$(BIN)/confide migrate
	$(BIN)/confide demo
	$(BIN)/confide serve

serve: install
	$(BIN)/confide serve

totp: install
	@$(BIN)/confide totp $(WHO)

test: install browser services lint test-sqlite test-postgres

test-sqlite: install
	CONFIDE_TEST_BACKEND=sqlite $(BIN)/pytest $(PYTEST_ARGS)

test-postgres: install
	CONFIDE_TEST_BACKEND=postgres $(BIN)/pytest $(PYTEST_ARGS)

lint: install
	$(BIN)/ruff check src tests scripts bench
	$(BIN)/ruff format --check src tests scripts bench
	$(BIN)/mypy

format: install
	$(BIN)/ruff format src tests scripts bench
	$(BIN)/ruff check --fix src tests scripts bench

# Refresh docs/screenshots (phone and desktop) from the browser tests.
screenshots: install browser
	CONFIDE_SCREENSHOTS_DIR=docs/screenshots $(BIN)/pytest tests/browser -k screenshots

i18n: install
	$(BIN)/python scripts/update_catalog.py

# Debian's Chromium for the Playwright tests (Playwright cannot download its own browser here).
browser:
	@bash scripts/ensure_chromium.sh
	@bash scripts/ensure_axe.sh

# PostgreSQL and Redis for the multi-node run; started if installed but not running.
services:
	@bash scripts/ensure_services.sh


# Benchmark of the realtime path against a raw websockets relay (figures in bench/RESULTS.md).
bench: install
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) var build .mypy_cache .ruff_cache
