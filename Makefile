# The few commands everybody runs. `make run` and `make test` work on a fresh machine with
# Python 3.11 or newer and nothing else installed.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
CATALOGUES := $(wildcard exchange/translations/*/LC_MESSAGES/messages.po)

.PHONY: run test lint format translations extract-messages clean

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Exchange needs Python 3.11 or newer: make PYTHON=python3.11 ...")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(INSTALLED): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $@

translations: $(INSTALLED)
	@$(BIN)/pybabel compile -d exchange/translations --statistics

## run: the app on http://127.0.0.1:5000 with a worker, beat and caught e-mail (SQLite, no services)
run: translations
	$(BIN)/flask --app wsgi db upgrade
	$(BIN)/flask --app wsgi exchange seed-demo
	@echo "Open http://127.0.0.1:5000 — caught e-mails: http://127.0.0.1:5000/dev/mail/"
	$(BIN)/honcho -f Procfile.dev start

## test: lint, then the whole test suite (PostgreSQL, Redis and a worker process when
## TEST_DATABASE_URL and TEST_BROKER_URL are set; SQLite and an in-process worker otherwise)
test: translations
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r exchange -c pyproject.toml
	$(BIN)/pytest

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -q -r exchange -c pyproject.toml

format: $(INSTALLED)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

## extract-messages: update the catalogues after changing translatable text
extract-messages: $(INSTALLED)
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext --no-location --sort-output --project Exchange --version 1 -o exchange/translations/messages.pot .
	$(BIN)/pybabel update -i exchange/translations/messages.pot -d exchange/translations --no-fuzzy-matching --ignore-obsolete

clean:
	rm -rf $(VENV) instance .pytest_cache .ruff_cache
