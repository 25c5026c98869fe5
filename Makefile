# The README's commands. Everything is installed in .venv from pyproject.toml;
# only Python 3.11+ is needed (test-pg and test-e2e install Debian packages when missing).

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
WORKERS ?= 4
FLASK  := $(BIN)/flask --app wsgi
PYTEST := env PARCOURS_ENV=testing $(BIN)/python -m pytest
# Unit and integration tests run in parallel (pytest-xdist), one worker per core by default;
# `make test TEST_WORKERS=0` runs them in one process.
TEST_WORKERS ?= auto

# `make run` is a development server: no SECRET_KEY needed there.
export PARCOURS_ENV ?= development

.PHONY: run test test-pg test-e2e test-all serve install db seed lint audit-deps clean pdf-tools

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

$(VENV)/.installed-pg: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e ".[dev,postgres]"
	touch $@

# Production: the application, gunicorn and psycopg; no test or lint tool.
$(VENV)/.installed-serve: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[serve]"
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
	$(PYTEST) -n $(TEST_WORKERS) tests/unit tests/integration

# The same suite on a throwaway PostgreSQL 15 cluster (.ci/postgres.sh); each worker has its
# own database in that server (tests/conftest.py).
test-pg: $(VENV)/.installed-pg
	bash .ci/postgres.sh $(PYTEST) -n $(TEST_WORKERS) tests/unit tests/integration

# The documents' PDF (issue 21): LibreOffice Writer converts .docx to PDF, headless
# (`soffice --headless --convert-to pdf`); without it the documents are .docx only.
pdf-tools:
	@(command -v soffice >/dev/null && test -e /usr/lib/libreoffice/program/libswlo.so) || \
	  (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
	  --no-install-recommends libreoffice-writer >/dev/null)

# Browser journeys: gunicorn + Debian's Chromium driven by Playwright (and LibreOffice for
# the documents' PDF).
test-e2e: $(VENV)/.installed-e2e pdf-tools
	@(command -v chromium >/dev/null && test -e /usr/lib/chromium/locales/fr.pak) || \
	  (apt-get update -qq && \
	  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium chromium-l10n >/dev/null)
	$(PYTEST) tests/e2e

test-all: test test-pg test-e2e

# Production server: gunicorn on DATABASE_URL (PostgreSQL) with SECRET_KEY set; gunicorn
# reads gunicorn.conf.py (no Server banner).
serve: $(VENV)/.installed-serve
	PARCOURS_ENV=production $(FLASK) db upgrade
	PARCOURS_ENV=production $(BIN)/gunicorn --workers $(WORKERS) \
	  --bind 127.0.0.1:$(PORT) --access-logfile - wsgi:app

lint: install
	$(BIN)/ruff check backoffice tests bench

# Known vulnerabilities of the installed (resolved) dependencies, from PyPI's advisories
# (.ci/audit_deps.py; needs PyPI; last result in docs/dependency-audit.md).
audit-deps: $(VENV)/.installed-pg
	$(BIN)/python .ci/audit_deps.py

clean:
	rm -rf $(VENV) instance .pytest_cache
