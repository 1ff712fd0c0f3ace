# floe — every target installs what it needs: uv (through pip) and the locked environment.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
PRODUCTS := customer-360 iot-telemetry financial-risk

.PHONY: setup demo test lint typecheck unit e2e bench schemas security clean help

help:
	@echo "make demo   - set everything up and run the three demo products"
	@echo "make test   - set everything up, lint, type-check and run the tests"
	@echo "make lint   - ruff + mypy --strict src"
	@echo "make bench  - performance benchmarks"
	@echo "make schemas - regenerate the JSON Schemas in schemas/"

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv \
		|| $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
	UV_COMPILE_BYTECODE=1 $(UV) sync --frozen
	@touch $@

setup: $(VENV)/.synced

demo: setup
	$(BIN)/floe demo demo

lint: setup
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks
	$(BIN)/mypy --strict src
	$(BIN)/bandit -q -r src -ll

unit: setup
	$(BIN)/pytest tests/unit

e2e: setup
	$(BIN)/pytest tests/e2e

test: lint
	$(BIN)/pytest -n 2 --dist loadfile tests

bench: setup
	$(BIN)/python benchmarks/compile_bench.py
	$(BIN)/python benchmarks/run_bench.py
	$(BIN)/python benchmarks/location_bench.py

schemas: setup
	$(BIN)/floe schema export --out schemas

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/*/target
