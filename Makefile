# Sigap: `make run` serves the demo, `make test` runs the suite. Both build .venv/ first.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export DEBUG ?= 1

.PHONY: install run superuser serve-prod test fuzz screenshots lint format typecheck schema messages train-scoring bench clean-db backup restore

$(STAMP): pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip setuptools wheel
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

install: $(STAMP)

run: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py seed_demo
	$(BIN)/python manage.py serve

# The platform superuser: asks for an e-mail address and a password (README "Quick start").
superuser: $(STAMP)
	$(BIN)/python manage.py createsuperuser

# Production on one machine (README "Running in production"): DEBUG off, so SECRET_KEY,
# SIGAP_ENCRYPTION_KEYS and ALLOWED_HOSTS must be set; gunicorn and both task clusters.
serve-prod: export DEBUG = 0
serve-prod: $(STAMP)
	$(BIN)/python manage.py migrate --noinput
	$(BIN)/python manage.py createcachetable
	$(BIN)/python manage.py collectstatic --noinput --verbosity 0
	$(BIN)/python manage.py serve

# The suite on every core (pytest-xdist; each worker has its own test database): a test file's
# tests stay on one worker, so its module fixtures are built once; files with slow tests start
# first (tests/conftest.py). TEST_WORKERS=0: one process.
TEST_WORKERS ?= auto
test: $(STAMP)
	$(BIN)/python -m pytest -n $(TEST_WORKERS) --dist loadfile --no-loadscope-reorder

# Schemathesis (every check) against openapi.yaml, on a fresh database of its own; see
# tests/fuzz/run_schemathesis.py. Fails on any 5xx or a writable operation that never got a 2xx.
fuzz: $(STAMP)
	$(BIN)/python -m tests.fuzz.run_schemathesis

# The admin's main screens in Debian's headless Chromium (apt-get install chromium chromium-driver),
# on a fresh demo database of its own; fails if a page lacks its chart or lists. Saves the PNGs
# in docs/screenshots/ (see docs/admin.md). Not part of `make test`.
screenshots: $(STAMP)
	$(BIN)/python docs/screenshots/capture.py

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/mypy .
	$(BIN)/python manage.py check
	$(BIN)/python manage.py makemigrations --check --dry-run
	$(BIN)/lint-imports --no-logo

format: $(STAMP)
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

schema: $(STAMP)
	$(BIN)/python manage.py export_schemas

# The Indonesian catalogue (docs/i18n.md): extract every wrapped string, update
# config/locale/id/LC_MESSAGES/django.po and compile django.mo, with Babel (no GNU gettext needed).
messages: $(STAMP)
	$(BIN)/python -m config.messages

train-scoring: $(STAMP)
	OMP_NUM_THREADS=1 $(BIN)/python -m monitoring.scoring.train

clean-db:
	rm -rf .pgdata

# Whole-database backup with the wheel's pg_dump (embedded server, or DATABASE_URL): backups/.
backup: $(STAMP)
	$(BIN)/python manage.py backup $(if $(FILE),--output "$(FILE)")

# Stop `make run` first. Replaces every table in the file: make restore FILE=backups/x.dump
restore: $(STAMP)
	@test -n "$(FILE)" || { echo "usage: make restore FILE=backups/sigap-....dump"; exit 2; }
	$(BIN)/python manage.py restore "$(FILE)" --yes
