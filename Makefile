# kaufland-sync — the two commands that matter: `make demo` and `make test`.
# Everything they need is installed here, on a fresh machine: PyPI packages into .venv, the web
# app's browser libraries from the npm registry, and the Debian packages the tests need (PostgreSQL,
# Redis, Chromium) when they are missing.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

# The web app's browser libraries (htmx, Chart.js): installed from the npm registry as pinned by
# package-lock.json, then copied next to our own static files. Neither is committed.
VENDOR     := src/kaufland_sync/web/static/vendor
NODE_STAMP := node_modules/.installed-$(shell cat package-lock.json | sha1sum | cut -c1-12)
VENDORED   := $(VENDOR)/htmx.min.js $(VENDOR)/chart.umd.min.js

# PostgreSQL server binaries for the store tests (which start their own server).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: system-deps assets install demo test check format lint typecheck pytest bench clean sandbox

install: $(STAMP) assets

## Debian packages the tests need (not the demo): PostgreSQL, Redis and Chromium (the browser
## tests), each installed only when its binary is missing.
system-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql)
	@command -v redis-server >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends redis-server)
	@test -x /usr/bin/chromium || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends chromium)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

## The browser libraries the web app serves from /static/vendor/ (npm itself comes from Debian
## when it is missing). `npm ci` runs again only when package-lock.json changes.
assets: $(VENDORED)

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends npm)
	npm ci --no-audit --no-fund
	@rm -f node_modules/.installed-* && touch $@

$(VENDOR)/htmx.min.js: $(NODE_STAMP)
	@mkdir -p $(VENDOR)
	cp node_modules/htmx.org/dist/htmx.min.js $@

$(VENDOR)/chart.umd.min.js: $(NODE_STAMP)
	@mkdir -p $(VENDOR)
	cp node_modules/chart.js/dist/chart.umd.min.js $@

## The product on embedded defaults: the sandbox with demo data and a signed round trip through the client.
demo: install
	$(BIN)/kaufland-sync demo

## The whole quality gate: format check, lint, types, every test.
test: system-deps install
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/mypy
	$(BIN)/python -m pytest $(PYTEST_ARGS)

format: install
	$(BIN)/ruff format src tests benchmarks
	$(BIN)/ruff check --fix src tests benchmarks

lint: install
	$(BIN)/ruff check src tests benchmarks

typecheck: install
	$(BIN)/mypy

pytest: system-deps install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

## Figures, not asserts: see docs/benchmarks.md.
bench: install
	$(BIN)/python benchmarks/client_throughput.py
	$(BIN)/python benchmarks/orders_import.py
	$(BIN)/python benchmarks/scale_out.py

sandbox: install
	$(BIN)/kaufland-sync sandbox

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info node_modules $(VENDOR)
