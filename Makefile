# The two commands a newcomer needs: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
DEPS := $(VENV)/.deps-installed

.PHONY: demo test lint format bench browsers otree-env clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

$(DEPS): $(BIN)/python requirements.txt requirements-dev.txt
	$(BIN)/pip install --quiet -r requirements-dev.txt
	touch $(DEPS)

## Run crowdhr with the local Mechanical Turk and a local oTree at http://127.0.0.1:8000/
demo: $(DEPS) otree-env
	DEBUG=1 $(BIN)/python manage.py migrate --noinput
	DEBUG=1 $(BIN)/python manage.py demo_setup
	DEBUG=1 $(BIN)/honcho -f Procfile.demo start

## Install what the tests need and run every test.
test: $(DEPS) otree-env browsers
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## ruff, the import contracts (ARCHITECTURE.md) and types (mypy with django-stubs).
lint: $(DEPS)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports
	$(BIN)/mypy

format: $(DEPS)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

## The four benchmarks at short sizes (BENCH_ARGS=--full for the issue's sizes), each
## printing its targets as met or missed: on SQLite, and on PostgreSQL too when DATABASE_URL is set.
bench: $(DEPS)
	@failed=""; for script in bench/[a-z]*.py; do \
		for db in SQLite $${DATABASE_URL:+PostgreSQL}; do \
			echo "== $$script on $$db"; \
			if [ $$db = SQLite ]; then env -u DATABASE_URL $(BIN)/python $$script $(BENCH_ARGS); \
			else $(BIN)/python $$script $(BENCH_ARGS); fi || failed="$$failed $$script($$db)"; \
		done; \
	done; [ -z "$$failed" ] || { echo "failed:$$failed"; exit 1; }

## oTree pins old libraries, so it lives in a virtual environment of its own.
otree-env: $(DEPS)
	$(BIN)/python -m experiments.otree_env

## Browser tests use Debian's chromium (browsers cannot be downloaded); best effort as root.
browsers:
	@command -v chromium >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1 && \
		(apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null) || \
		echo "chromium is not installed: browser tests will be skipped"; }

clean:
	rm -rf $(VENV) .otree-venv var staticfiles
