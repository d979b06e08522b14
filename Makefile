# minyi: `make run` sets everything up and serves the demo; `make test` lints and tests.
VENV := .venv
BIN := $(VENV)/bin
PY := $(BIN)/python
STAMP := $(VENV)/.installed

.PHONY: run test install setup lint format browser clean-db

$(STAMP): requirements.txt
	@test -x $(PY) || "$$(scripts/find-python)" -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements.txt
	@touch $(STAMP)

install: $(STAMP)

setup: install
	@mkdir -p data
	$(PY) manage.py migrate --noinput
	$(PY) manage.py collectstatic --noinput --verbosity 0
	$(PY) manage.py import_divisions minyi/org/data/shenzhen.csv
	$(PY) manage.py load_demo

run: setup
	@echo ""
	@echo "民意 minyi 已启动: http://127.0.0.1:8000  (演示账号见上方列表)"
	# The local demo is plain http, so its cookies cannot be Secure-only.
	SECURE_COOKIES=0 $(PY) manage.py runserver 127.0.0.1:8000

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy

format: install
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

# The suite runs in parallel, one worker per core (TEST_WORKERS=0 runs it in one
# process). loadgroup hands tests out in pytest-django's order, so each worker meets the
# tests that flush its database (transaction=True) last, as a single process does.
TEST_WORKERS ?= auto

test: lint
	$(PY) manage.py makemigrations --check --dry-run
	$(PY) -m pytest -n $(TEST_WORKERS) --dist loadgroup

browser: install
	$(PY) -m pytest -m browser

clean-db:
	rm -f data/minyi.sqlite3*

# --- performance (issue 8; docs/performance.md). Not part of `make test`. ---------------
# Fill a database first: `manage.py generate_load_data --scale city` (or national).
# They use DATABASE_URL (PostgreSQL) or the SQLite file under MINYI_DATA_DIR.
.PHONY: bench load soak
BENCH_ARGS ?=
LOAD_ARGS ?=

bench: install
	$(PY) -m bench.run $(BENCH_ARGS)

load: install
	$(PY) -m bench.load --seconds 60 --label load $(LOAD_ARGS)

soak: install
	$(PY) -m bench.load --seconds 600 --browsers 12 --public 4 --registrars 4 --label soak $(LOAD_ARGS)
