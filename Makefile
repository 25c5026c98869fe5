# The two commands of the README: `make run` and `make test`.
# Everything is installed in .venv from pyproject.toml; only Python 3.11+ is needed.

PYTHON ?= $(shell command -v python3.11 2>/dev/null || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
PORT   ?= 5000
FLASK  := $(BIN)/flask --app wsgi

# `make run` is a development server: no SECRET_KEY needed there.
export PARCOURS_ENV ?= development

.PHONY: run test install db seed lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	touch $@

install: $(VENV)/.installed

db: install
	$(FLASK) db upgrade

seed: db
	$(FLASK) seed reference
	$(FLASK) seed demo --if-empty

run: seed
	$(FLASK) run --host 127.0.0.1 --port $(PORT)

test: install
	PARCOURS_ENV=testing $(BIN)/python -m pytest

lint: install
	$(BIN)/ruff check backoffice tests

clean:
	rm -rf $(VENV) instance .pytest_cache
