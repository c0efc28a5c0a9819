# Rapport's front door. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
DEMO_THERAPISTS ?= 300
DEMO_SEED ?= 1

.PHONY: install demo serve lint typecheck test test-postgres bench clean

$(STAMP): requirements.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes -r requirements.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/rapport migrate --noinput
	$(BIN)/rapport seed --therapists $(DEMO_THERAPISTS) --seed $(DEMO_SEED)
	$(MAKE) --no-print-directory serve

# The web server and the background task worker together, until Ctrl-C.
serve: install
	scripts/serve-demo

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

typecheck: install
	$(BIN)/mypy rapport tests bench

test: lint typecheck
	$(BIN)/pytest

# The same suite against a throwaway PostgreSQL 15 cluster on a unix socket.
test-postgres: install
	scripts/with-postgres $(BIN)/pytest

# Each benchmark prints its figures; the PostgreSQL runs use a throwaway cluster.
bench: install
	$(BIN)/python bench/seed_speed.py
	scripts/with-postgres $(BIN)/python bench/seed_speed.py --use-database-url

clean:
	rm -rf $(VENV) var/rapport.sqlite3* .pytest_cache .mypy_cache .ruff_cache
