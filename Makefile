# Two commands for a fresh machine: `make demo` and `make test`.
PYTHON ?= python3.11
VENV := .venv
PY := $(VENV)/bin/python
PIP := $(VENV)/bin/pip
STAMP := $(VENV)/.installed
DEV_STAMP := $(VENV)/.installed-dev
PG_TEST_URL ?= postgres://postgres@127.0.0.1:5432/linda
HOST ?= 127.0.0.1
PORT ?= 8000

.PHONY: busybox chromium pango demo test test-sqlite test-postgres lint install install-dev node clean-var run

$(VENV)/bin/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install -q --upgrade pip

$(STAMP): pyproject.toml requirements.lock | $(VENV)/bin/python
	$(PIP) install -q -c requirements.lock -e .
	touch $@

$(DEV_STAMP): $(STAMP) pyproject.toml requirements.lock
	$(PIP) install -q -c requirements.lock -e '.[dev]'
	touch $@

install: $(STAMP)
install-dev: $(DEV_STAMP)

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	touch $@

node: node_modules/.installed

demo: install node pango
	$(PY) -m linda migrate --no-input -v 0
	$(PY) -m linda import-regions data/regions/barito_utara_62.05.csv
	$(PY) -m linda demo-data --if-empty
	$(PY) -m linda demo-admin
	$(PY) -m linda run-demo --host $(HOST) --port $(PORT)

lint: install-dev
	$(VENV)/bin/ruff check .
	$(VENV)/bin/mypy linda/domain
	$(VENV)/bin/lint-imports
	$(PY) -m linda makemigrations --check --dry-run

# Browser tests drive Debian's chromium package (Playwright never downloads a browser).
chromium:
	@command -v chromium >/dev/null 2>&1 || { \
		echo "Installing Debian's chromium for the browser tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }

# The device-side clients the intake tests run: BusyBox wget, as on OpenWrt boards.
busybox:
	@command -v busybox >/dev/null 2>&1 || { \
		echo "Installing Debian's busybox for the device client tests"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq busybox; }

# WeasyPrint (PDF reports) needs Pango from Debian.
pango:
	@ldconfig -p | grep -q libpangoft2-1.0 || { \
		echo "Installing Debian's Pango for PDF reports"; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq \
			libpango-1.0-0 libpangoft2-1.0-0 fonts-dejavu-core; }

test: install-dev node chromium busybox pango
	bash scripts/test-all

test-sqlite: install-dev
	$(VENV)/bin/pytest

test-postgres: install-dev
	DATABASE_URL=$(PG_TEST_URL) $(VENV)/bin/pytest
