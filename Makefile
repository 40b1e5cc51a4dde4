# kaufland-sync — the two commands that matter: `make demo` and `make test`.
# Everything they need is installed here, on a fresh machine: PyPI packages into .venv, and the
# Debian packages the tests need (PostgreSQL) when they are missing.

PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed-$(shell cat pyproject.toml | sha1sum | cut -c1-12)
PYTEST_ARGS ?=

# PostgreSQL server binaries for the store tests (which start their own server).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: system-deps install demo test check format lint typecheck pytest bench clean sandbox

install: $(STAMP)

## Debian packages the tests need (not the demo): PostgreSQL and Redis, each installed only when
## its server binary is missing.
system-deps:
	@command -v initdb >/dev/null 2>&1 || ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends postgresql)
	@command -v redis-server >/dev/null 2>&1 || \
		($(SUDO) apt-get update && $(SUDO) apt-get install -y --no-install-recommends redis-server)

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed (found %s)" % sys.version.split()[0])'
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@rm -f $(VENV)/.installed-* && touch $@

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
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist src/*.egg-info
