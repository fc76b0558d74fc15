# The two commands: `make run` (the app with its worker and beat, demo data) and `make test`.
# Each target skips work already done: stamp files in .venv and node_modules record installs.

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
LOCK := requirements.lock
MANAGE := $(BIN)/python manage.py
PORT ?= 8000
# Extra arguments for pytest, e.g. `make test PYTEST_ARGS="-m 'not e2e' -x"`.
PYTEST_ARGS ?=

INSTALLED := $(VENV)/.installed
ASSETS := node_modules/.installed

# Management commands run by `make test` need a key; these never serve a request.
CHECK_ENV := DEBUG=1 SECRET_KEY=make-test-only-not-a-secret-0123456789abcdefghijklmnopqrstuvwxyz

.DEFAULT_GOAL := help
.PHONY: help install run test lint fmt typecheck check bench bench-flow lock clean distclean

help:
	@echo "make run        install, migrate, load the demo organisation, start web + worker + beat (PORT=$(PORT))"
	@echo "make test       lint, migration/deploy/schema checks, the whole pytest suite (PYTEST_ARGS=...)"
	@echo "make lint       ruff check and ruff format --check"
	@echo "make fmt        ruff format and ruff check --fix"
	@echo "make typecheck  mypy with django-stubs (strict on services and selectors)"
	@echo "make bench      benchmarks in bench/ (own database in var/bench; DATABASE_URL for PostgreSQL)"
	@echo "make bench-flow flow metrics at 1,000,000 items (PostgreSQL: DATABASE_URL; own database)"
	@echo "make lock       rewrite $(LOCK) from the packages installed in $(VENV)"
	@echo "make clean      remove collected static files, test databases and caches (keeps var/ data)"
	@echo "make distclean  clean, and remove var/ (local database, broker), $(VENV) and node_modules"

$(BIN)/python:
	@$(PYTHON) -c 'import sys; sys.exit(sys.version_info < (3, 11))' \
		|| { echo "Python 3.11 or newer is needed (PYTHON=$(PYTHON))"; exit 1; }
	$(PYTHON) -m venv $(VENV)

# Every package pinned by the lock file; the project itself installed editable.
$(INSTALLED): $(BIN)/python pyproject.toml $(LOCK)
	$(BIN)/python -m pip install --disable-pip-version-check --quiet -c $(LOCK) -e ".[dev]"
	@touch $@

# Chart.js from the npm registry, exactly as package-lock.json says.
$(ASSETS): package.json package-lock.json
	@command -v npm >/dev/null || { echo "npm is needed (install Node.js)"; exit 1; }
	npm ci --no-audit --no-fund
	@touch $@

install: $(INSTALLED) $(ASSETS)

# `exec`: a SIGTERM that make passes on reaches the runner itself, which stops all three.
run: install
	DEBUG=1 $(MANAGE) migrate --noinput
	DEBUG=1 $(MANAGE) seed_demo
	DEBUG=1 PORT=$(PORT) exec $(BIN)/python scripts/run-dev

lint: $(INSTALLED)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

fmt: $(INSTALLED)
	$(BIN)/ruff format .
	$(BIN)/ruff check --fix .

typecheck: $(INSTALLED)
	$(CHECK_ENV) $(BIN)/mypy .

# Migrations in step with the models, production settings that pass the deploy checklist,
# an OpenAPI schema without warnings.
check: $(INSTALLED)
	$(CHECK_ENV) $(MANAGE) makemigrations --check --dry-run
	env -u DJANGO_ALLOW_ASYNC_UNSAFE -u STATIC_MANIFEST DEBUG=0 HTTPS=1 ALLOWED_HOSTS=example.com \
		SECRET_KEY="$$($(BIN)/python -c 'import secrets; print(secrets.token_urlsafe(64))')" \
		$(MANAGE) check --deploy --fail-level WARNING
	$(CHECK_ENV) $(MANAGE) spectacular --validate --fail-on-warn --file /dev/null

# DATABASE_URL and CELERY_BROKER_URL pass through from the environment (unset: SQLite and
# the filesystem broker); service-marked tests run when their service is configured.
test: install lint typecheck check
	$(BIN)/pytest $(PYTEST_ARGS)

# Benchmarks are not tests: they build their own data and print figures.
bench: $(INSTALLED)
	$(BIN)/python bench/registry_lists.py

# Flow metrics at scale (issue 4): PostgreSQL only; scale with BENCH_ITEMS, BENCH_PRODUCTS, ...
bench-flow: $(INSTALLED)
	$(BIN)/python bench/flow.py

lock: $(BIN)/python
	@{ echo "# Every package the project installs, pinned; regenerate with 'make lock'."; \
	   echo "# Used as a constraints file: pip install -c $(LOCK) -e '.[dev]'"; \
	   $(BIN)/python -m pip freeze --disable-pip-version-check --exclude-editable \
	     | grep -iv '^portfolio[ =@]' | LC_ALL=C sort -f; } > $(LOCK).tmp
	@mv $(LOCK).tmp $(LOCK)
	@echo "wrote $(LOCK)"

clean:
	rm -rf staticfiles test-results .pytest_cache .ruff_cache .mypy_cache var/test-*
	find . -path ./$(VENV) -prune -o -path ./node_modules -prune -o -name __pycache__ -type d -exec rm -rf {} +

distclean: clean
	rm -rf var $(VENV) node_modules *.egg-info
