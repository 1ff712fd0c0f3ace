# floe — every target installs what it needs: uv (through pip) and the locked environment.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
PRODUCTS := customer-360 iot-telemetry financial-risk

.PHONY: setup demo test lint typecheck unit e2e trace bench schemas security clean help

help:
	@echo "make demo   - set everything up and run the three demo products"
	@echo "make test   - set everything up, lint, type-check and run the tests"
	@echo "make lint   - ruff + mypy --strict src"
	@echo "make trace  - requirement traceability: each requirement with its tests, coverage per group"
	@echo "make bench  - performance benchmarks"
	@echo "make schemas - regenerate the JSON Schemas in schemas/"
	@echo "make security - bandit (0 medium/high) + pip-audit of uv.lock (needs network)"

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv \
		|| $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
	UV_COMPILE_BYTECODE=1 $(UV) sync --frozen
	@touch $@

# Promotion tests (docs/promotion.md): Debian's docker-registry (the CNCF distribution server,
# started by the tests on 127.0.0.1; their htpasswd users are hashed with the bcrypt package);
# apt-get, only what is missing.
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
REGISTRY_DEBS := docker-registry
$(VENV)/.registry: $(VENV)/.synced
	@need=""; for deb in $(REGISTRY_DEBS); do dpkg -s $$deb >/dev/null 2>&1 || need="$$need $$deb"; done; \
	if [ -n "$$need" ]; then \
		echo "apt-get install$$need"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$need; \
	fi
	@touch $@

# floe's own sources are byte-compiled too: shells that set PYTHONDONTWRITEBYTECODE would
# otherwise compile every floe module on every command (~40 ms per `floe compile`).
setup: $(VENV)/.synced $(VENV)/.registry
	@$(BIN)/python -m compileall -q src >/dev/null

demo: setup
	$(BIN)/floe demo demo

lint: setup
	$(BIN)/ruff check src tests benchmarks security
	$(BIN)/ruff format --check src tests benchmarks security
	$(BIN)/mypy --strict src
	$(BIN)/bandit -q -r src -ll

# Unit tests run in random order (pytest-randomly; `-p no:randomly` is the default in
# pyproject so e2e modules keep file order under xdist's loadfile scheduling). A failing order
# is replayed with the seed pytest prints: `make unit ARGS=--randomly-seed=N`.
unit: setup
	$(BIN)/pytest -p randomly tests/unit $(ARGS)

e2e: setup
	$(BIN)/pytest tests/e2e $(ARGS)

# Requirement traceability (tests/requirements.yaml, tests/traceability.py): fails on an
# unknown requirement id, a test without a marker, or a group under its coverage floor.
# `make trace ARGS=--summary` prints only the figures; ARGS=--raise raises the floors.
trace: setup
	$(BIN)/python tests/traceability.py $(ARGS)

test: lint
	$(BIN)/python tests/traceability.py --summary
	$(BIN)/pytest -n 2 -p randomly tests/unit
	$(BIN)/pytest -n 2 --dist loadfile tests/e2e

bench: setup
	$(BIN)/python benchmarks/compile_bench.py
	$(BIN)/python benchmarks/run_bench.py
	$(BIN)/python benchmarks/location_bench.py
	$(BIN)/python benchmarks/corpus_bench.py

schemas: setup
	$(BIN)/floe schema export --out schemas

# Supply chain: bandit reports every finding of medium or high severity and confidence (none
# allowed); pip-audit checks every locked package (all groups) against the vulnerability
# service (network: PyPI by default, AUDIT_SERVICE=osv for osv.dev). --strict makes an
# unanswered package fail; accepted findings live in security/accepted-vulnerabilities.toml.
AUDIT_SERVICE ?= pypi
security: setup
	$(BIN)/bandit -r src -ll -ii
	$(UV) export --frozen --all-groups --no-emit-project --no-hashes --format requirements-txt \
		--quiet --output-file $(VENV)/audit-requirements.txt
	$(BIN)/python security/audit.py $(VENV)/audit-requirements.txt --service $(AUDIT_SERVICE)

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/*/target
