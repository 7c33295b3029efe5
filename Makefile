# Portal Layanan Deli Serdang. `make run` and `make test` are the contract (see README.md).
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
FLASK := PORTAL_CONFIG=development $(BIN)/flask --app wsgi
TRANSLATIONS := portal/translations

.PHONY: run test test-fast lint loadtest bench audit translations extract-messages migrate clean help

help:
	@echo "make run    - install, migrate, load demo data, serve on http://127.0.0.1:5000"
	@echo "make test   - install test extras and run the whole suite (TEST_DATABASE_URL for PostgreSQL)"
	@echo "make lint   - ruff"
	@echo "make loadtest - 60 s of locust against gunicorn + PostgreSQL, a worker killed and PostgreSQL"
	@echo "                restarted mid-run, then a check of every write (LOADTEST_ARGS=--no-faults ...)"
	@echo "make bench  - key pages vs a Fortunes reference behind nginx (wrk; 10k and 100k products);"
	@echo "              BENCH_DATABASE_URL=postgresql+psycopg://.../portal_bench for PostgreSQL, BENCH_ARGS=..."
	@echo "make audit  - Lighthouse 12 (Debian's Chromium) on 7 public pages, mobile and 3G, behind nginx;"
	@echo "              scores to bench/results/<date>-audit.json (AUDIT_ARGS=--runs 1 --pages home ...)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[test]"
	touch $(VENV)/.installed $@

translations: $(VENV)/.installed
	$(BIN)/pybabel -q compile -d $(TRANSLATIONS)

run: $(VENV)/.installed translations
	mkdir -p instance
	$(FLASK) db upgrade
	$(FLASK) seed demo
	$(FLASK) run --host 127.0.0.1 --port 5000

test: $(VENV)/.installed-test translations
	$(BIN)/ruff check portal tests config.py wsgi.py loadtest bench
	$(BIN)/bandit -q -r portal config.py wsgi.py --severity-level high
	$(BIN)/pytest $(PYTEST_ARGS)

lint: $(VENV)/.installed-test
	$(BIN)/ruff check portal tests config.py wsgi.py loadtest bench

# Needs PostgreSQL on 127.0.0.1:5432 (LOADTEST_DATABASE_URL; the database must be named portal_load*,
# it is dropped and recreated) and pg_ctlcluster for the restart. See README "Reliability".
loadtest: $(VENV)/.installed-test translations
	$(BIN)/python loadtest/run.py $(LOADTEST_ARGS)

# Installs Debian's nginx-light and wrk when missing; SQLite unless BENCH_DATABASE_URL names a
# PostgreSQL database portal_bench* (dropped and recreated). See README "Performance".
bench: $(VENV)/.installed translations
	$(BIN)/python bench/run.py $(BENCH_ARGS)

# Installs Lighthouse (npm, into bench/.lighthouse/), and Debian's chromium, nginx-light and wrk when
# missing; SQLite with the demo data. See README "Lighthouse".
audit: $(VENV)/.installed translations
	$(BIN)/python bench/audit.py $(AUDIT_ARGS)

# Refresh the message catalogue after changing user-facing text, then translate the new entries.
extract-messages: $(VENV)/.installed
	$(BIN)/pybabel extract -F babel.cfg -k _l -k lazy_gettext -o $(TRANSLATIONS)/messages.pot --no-location --sort-output --project="Portal Layanan Deli Serdang" --no-wrap .
	$(BIN)/pybabel update -i $(TRANSLATIONS)/messages.pot -d $(TRANSLATIONS) --no-fuzzy-matching --ignore-obsolete --no-wrap

migrate: $(VENV)/.installed
	$(FLASK) db upgrade

clean:
	rm -rf $(VENV) instance/portal.db .pytest_cache
