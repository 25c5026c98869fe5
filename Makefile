# The README's commands. Everything is installed in .venv from pyproject.toml;
# only Python 3.11+ is needed (test-pg and test-e2e install Debian packages when missing).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 4
FLASK  := $(BIN)/flask --app wsgi
PYTEST := env PARCOURS_ENV=testing $(BIN)/python -m pytest

# `make run` is a development server: no SECRET_KEY needed there.
export PARCOURS_ENV ?= development

.PHONY: run test test-pg test-e2e test-all serve install db seed lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(VENV)/.installed-pg: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@

$(VENV)/.installed-e2e: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,e2e]"
	touch $@

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed reference
	$(FLASK) seed demo --if-empty

run: seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

# Unit and integration tests on SQLite.
test: install
	$(PYTEST) tests/unit tests/integration

# The same suite on a throwaway PostgreSQL 15 cluster (.ci/postgres.sh).
test-pg: $(VENV)/.installed-pg
	bash .ci/postgres.sh $(PYTEST) tests/unit tests/integration

# Browser journeys: gunicorn + Debian's Chromium driven by Playwright.
test-e2e: $(VENV)/.installed-e2e
	@(command -v chromium >/dev/null && test -e /usr/lib/chromium/locales/fr.pak) || \
	  (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n >/dev/null)
	$(PYTEST) tests/e2e

test-all: test test-pg test-e2e

# Production server: gunicorn on DATABASE_URL (PostgreSQL) with SECRET_KEY set.
serve: $(VENV)/.installed-pg
	$(BIN)/python -m pip install --quiet -e ".[serve]"
	PARCOURS_ENV=production $(FLASK) db upgrade
	PARCOURS_ENV=production $(BIN)/gunicorn --workers $(WORKERS) \
	  --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

lint: install
	$(BIN)/ruff check backoffice tests bench

clean:
	rm -rf $(VENV) instance .pytest_cache
