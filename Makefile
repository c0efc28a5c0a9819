# Rapport's front door. `make demo` and `make test` work from a fresh clone.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed-from-lock
DEMO_THERAPISTS ?= 300
DEMO_SEED ?= 1
# The demo's port (`make demo PORT=8123`); e-mailed links follow it (scripts/serve-demo).
PORT ?= 8000
# Python writes its bytecode caches (__pycache__/, ignored by git) even where the shell says not
# to: without them every pytest process rewrites the asserts of all ~280 test modules and every
# `rapport` subprocess a test starts compiles the project again (20 s a run here).
unexport PYTHONDONTWRITEBYTECODE

.PHONY: install demo serve lint typecheck test test-postgres test-browser bench clean

# A working copy gets the development lock (the runtime lock plus test and lint tools, at the
# same versions); a production install takes requirements.lock alone. --no-compile: a module is
# compiled when first imported (the caches are kept, above), not all ~1 GB of them up front.
$(STAMP): requirements.lock requirements-dev.lock pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --require-hashes --no-compile -r requirements-dev.lock
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

install: $(STAMP)

demo: install
	$(BIN)/rapport migrate --noinput
	$(BIN)/rapport seed --therapists $(DEMO_THERAPISTS) --seed $(DEMO_SEED)
	$(BIN)/rapport seed_bookings --seed $(DEMO_SEED)
	$(BIN)/rapport seed_videos --seed $(DEMO_SEED)
	$(BIN)/rapport seed_care --seed $(DEMO_SEED)
	$(BIN)/rapport seed_matching
	$(BIN)/rapport retrain_matcher
	$(MAKE) --no-print-directory serve

# The web server and the background task worker together, until Ctrl-C, on 127.0.0.1:$(PORT);
# e-mails are written to var/mail/, one .eml file per message.
serve: install
	RAPPORT_PORT=$(PORT) scripts/serve-demo

# Bandit fails the build on any high-severity finding in the product code; a justified
# exception is marked in place with `# nosec <test id>` and the reason. import-linter holds the
# apps to their layer order (pyproject.toml, docs/architecture.md).
lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/bandit -r rapport -lll -q
	$(BIN)/lint-imports --no-cache

typecheck: install
	$(BIN)/mypy rapport tests bench

# The browser tests have their own target (they need Chromium); `pytest` alone runs them too,
# or skips them, saying why, on a machine without /usr/bin/chromium.
# Two workers (pytest-xdist; `-n auto` takes one per core): the suite's tests are independent,
# each worker has its own test database.
PYTEST_WORKERS ?= auto

# lint and typecheck (one process each; mypy alone takes ~40 s of one core) run beside the suite
# rather than before it: the suite's workers leave a core idle while they start, migrate and
# finish. Their output follows the suite's, and either failing fails `make test`.
test: install
	@$(MAKE) --no-print-directory --jobs=2 --output-sync=target lint typecheck \
		>$(VENV)/checks.log 2>&1 & checks=$$!; \
	$(BIN)/pytest -m "not browser" -n $(PYTEST_WORKERS); suite=$$?; \
	wait $$checks; checked=$$?; \
	cat $(VENV)/checks.log; \
	[ $$checked -eq 0 ] || echo "make test: lint or typecheck failed (above)" >&2; \
	[ $$suite -eq 0 ] && [ $$checked -eq 0 ]

# The same suite against a throwaway PostgreSQL 15 cluster on a unix socket, less what cannot
# differ between databases: the browser tests (run on SQLite by test-browser) and the video
# media code (probe, transcode, captions, serving).
test-postgres: install
	scripts/with-postgres $(BIN)/pytest -m "not browser and not media" -n $(PYTEST_WORKERS)

# Playwright driving Debian's Chromium (/usr/bin/chromium, never a downloaded browser) against
# a live server. RAPPORT_REQUIRE_BROWSER makes a missing Chromium an error instead of a skip.
# Two workers here too (each with its own browser, live server and database), a test file to a
# worker, so a module's own server (test_search_cold_server.py) is started once.
test-browser: install
	RAPPORT_REQUIRE_BROWSER=1 $(BIN)/pytest -m browser -n $(PYTEST_WORKERS) --dist loadfile

# Each benchmark prints its figures; the PostgreSQL runs use a throwaway cluster.
bench: install
	$(BIN)/python bench/seed_speed.py
	scripts/with-postgres $(BIN)/python bench/seed_speed.py --use-database-url
	$(BIN)/python bench/search_speed.py
	scripts/with-postgres $(BIN)/python bench/search_speed.py --use-database-url
	$(BIN)/python bench/slot_speed.py
	scripts/with-postgres $(BIN)/python bench/slot_speed.py --use-database-url
	$(BIN)/python bench/booking_overlaps.py
	scripts/with-postgres $(BIN)/python bench/booking_overlaps.py --use-database-url
	$(BIN)/python bench/video_speed.py
	$(BIN)/python bench/practice_speed.py
	$(BIN)/python bench/import_speed.py
	$(BIN)/python bench/scoring_speed.py
	$(BIN)/python bench/care_speed.py
	scripts/with-postgres $(BIN)/python bench/care_speed.py --use-database-url
	$(BIN)/python bench/demo_seed_speed.py
	scripts/with-postgres $(BIN)/python bench/demo_seed_speed.py --use-database-url
	$(BIN)/python bench/matching_simulation.py
	$(BIN)/python bench/matching_speed.py
	scripts/with-postgres $(BIN)/python bench/matching_speed.py --use-database-url
	$(BIN)/python bench/matching_update_speed.py
	scripts/with-postgres $(BIN)/python bench/matching_update_speed.py --use-database-url

clean:
	rm -rf $(VENV) var/rapport.sqlite3* .pytest_cache .mypy_cache .ruff_cache
