# floe — every target installs what it needs: uv (through pip) and the locked environment.
SHELL := /bin/bash
PYTHON ?= python3
UV := $(PYTHON) -m uv
VENV := .venv
BIN := $(VENV)/bin
PRODUCTS := customer-360 iot-telemetry financial-risk

.PHONY: setup tools demo test lint typecheck unit chart e2e trace bench schemas security image clean help

help:
	@echo "make demo   - set everything up and run the three demo products"
	@echo "make test   - set everything up, lint, type-check and run the tests"
	@echo "make lint   - ruff + mypy --strict src"
	@echo "make trace  - requirement traceability: each requirement with its tests, coverage per group"
	@echo "make bench  - performance benchmarks"
	@echo "make schemas - regenerate the JSON Schemas in schemas/"
	@echo "make security - bandit (0 medium/high) + pip-audit of uv.lock (needs network)"
	@echo "make chart  - the floe-platform Helm chart tests (render, lint, validate, scripts)"
	@echo "make image  - build the container image with docker, podman or buildah (IMAGE=floe:dev)"

$(VENV)/.synced: pyproject.toml uv.lock
	@$(UV) --version >/dev/null 2>&1 || $(PYTHON) -m pip install --quiet --disable-pip-version-check uv \
		|| $(PYTHON) -m pip install --quiet --disable-pip-version-check --user --break-system-packages uv
	UV_COMPILE_BYTECODE=1 $(UV) sync --frozen --extra spark --extra quality --extra ingestion
	@touch $@

# Spark compute (docs/compute.md): Java 17 when there is none, Debian's jarjar, SQLite and
# PostgreSQL JDBC drivers (apt-get, only what is missing), then Iceberg's relocated Jackson and
# the AWS SDK v2 for s3 storage and HttpComponents 5 for Iceberg's REST catalog client (relocated
# out of PyPI's sagemaker-feature-store-pyspark,
# fetched by pip, pinned by sha256), each built once into $(VENV)/spark-jars/ by `python -m
# floe.runtime.spark.jars` / `python -m floe.runtime.spark.aws_sdk` (no-ops when they are there).
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
SPARK_DEBS := libjarjar-java libxerial-sqlite-jdbc-java libxerial-sqlite-jdbc-jni \
	libpostgresql-jdbc-java
$(VENV)/.spark: $(VENV)/.synced src/floe/runtime/spark/aws_sdk.py
	@need=""; command -v java >/dev/null 2>&1 || need="openjdk-17-jre-headless"; \
	for deb in $(SPARK_DEBS); do dpkg -s $$deb >/dev/null 2>&1 || need="$$need $$deb"; done; \
	if [ -n "$$need" ]; then \
		echo "apt-get install $$need"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq $$need; \
	fi
	$(BIN)/python -m floe.runtime.spark.jars
	$(BIN)/python -m floe.runtime.spark.aws_sdk
	@touch $@

# Promotion tests (docs/promotion.md): Debian's docker-registry (the CNCF distribution server,
# started by the tests on 127.0.0.1; their htpasswd users are hashed with the bcrypt package);
# apt-get, only what is missing.
REGISTRY_DEBS := docker-registry
$(VENV)/.registry: $(VENV)/.synced
	@need=""; for deb in $(REGISTRY_DEBS); do dpkg -s $$deb >/dev/null 2>&1 || need="$$need $$deb"; done; \
	if [ -n "$$need" ]; then \
		echo "apt-get install$$need"; \
		$(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq --no-install-recommends $$need; \
	fi
	@touch $@

# The semantic layer (docs/semantic-layer.md): Cube's schema compiler from npm, pinned by
# deploy/cube/package-lock.json, into $(VENV)/cube/ (what `floe semantic validate` runs with
# node). Installed again only when the lock changes; without npm it is left out (the cube
# plugin's health check and `floe semantic validate` then say so). --ignore-scripts: Cube's
# native extension would download a binary from GitHub; its compiler needs none for YAML.
CUBE_DIR := $(VENV)/cube
$(CUBE_DIR)/.installed: deploy/cube/package.json deploy/cube/package-lock.json | $(VENV)/.synced
	@if command -v npm >/dev/null 2>&1; then \
		mkdir -p $(CUBE_DIR) && cp deploy/cube/package.json deploy/cube/package-lock.json $(CUBE_DIR)/ && \
		npm ci --prefix $(CUBE_DIR) --ignore-scripts --no-audit --no-fund --loglevel=error && touch $@; \
	else echo "npm not found: Cube's schema compiler not installed (floe semantic validate needs it)"; fi

# A real Iceberg REST catalog for the e2e tests (tests/e2e/test_catalog_rest_real.py): the
# lakana-server package from PyPI in a venv of its own ($(VENV)/lakana) — its dependencies do
# not fit floe's lock and it is no dependency of floe. Installed once, when missing.
LAKANA := $(VENV)/lakana
LAKANA_VERSION := 0.20.0
$(LAKANA)/.installed: | $(VENV)/.synced
	$(UV) venv -q $(LAKANA) && $(UV) pip install -q --python $(LAKANA)/bin/python lakana-server==$(LAKANA_VERSION)
	@touch $@

# floe's own sources are byte-compiled too: shells that set PYTHONDONTWRITEBYTECODE would
# otherwise compile every floe module on every command (~40 ms per `floe compile`).
setup: $(VENV)/.synced $(VENV)/.spark $(VENV)/.registry $(CUBE_DIR)/.installed $(LAKANA)/.installed
	@$(BIN)/python -m compileall -q src >/dev/null

# Debian tools the tests call (shellcheck for the chart's scripts); installed when missing.
tools:
	@command -v shellcheck >/dev/null 2>&1 || { $(SUDO) apt-get update -qq && DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq shellcheck >/dev/null; }

demo: setup
	$(BIN)/floe demo demo

lint: setup
	$(BIN)/ruff check src tests benchmarks security
	$(BIN)/ruff format --check src tests benchmarks security
	$(BIN)/mypy --strict src
	$(BIN)/bandit -q -r src -ll

# Unit tests run in random order (pytest-randomly; `-p no:randomly` is the default in
# pyproject so e2e tests keep file order within their module). A failing order
# is replayed with the seed pytest prints: `make unit ARGS=--randomly-seed=N`.
unit: setup
	$(BIN)/pytest -p randomly tests/unit $(ARGS)

e2e: setup
	$(BIN)/pytest tests/e2e $(ARGS)

# The Helm chart: rendered by the Helm SDK (no helm binary), linted, validated; its scripts
# shellchecked and run against local servers. The `cluster` tests need a Kind cluster
# (.github/workflows/kind.yml) and are deselected by pytest's addopts.
chart: setup tools
	$(BIN)/pytest -n 2 -p randomly tests/chart $(ARGS)

# Requirement traceability (tests/requirements.yaml, tests/traceability.py): fails on an
# unknown requirement id, a test without a marker, or a group under its coverage floor.
# `make trace ARGS=--summary` prints only the figures; ARGS=--raise raises the floors.
trace: setup
	$(BIN)/python tests/traceability.py $(ARGS)

# e2e: whole modules per xdist worker, longest first (tests/e2e/schedule.py, durations.json);
# three workers on two cores: e2e tests wait on subprocesses, servers and the JVM for part of
# their time (with two workers the cores were busy ~75 % of the e2e wall time).
test: lint tools
	$(BIN)/python tests/traceability.py --summary
	$(BIN)/pytest -n 2 -p randomly tests/unit tests/chart
	$(BIN)/pytest -n 3 --dist loadfile tests/e2e

bench: setup
	$(BIN)/python benchmarks/compile_bench.py
	$(BIN)/python benchmarks/run_bench.py
	$(BIN)/python benchmarks/location_bench.py
	$(BIN)/python benchmarks/corpus_bench.py
	$(BIN)/python benchmarks/partition_bench.py
	$(BIN)/python benchmarks/compaction_bench.py
	$(BIN)/python benchmarks/spark_bench.py

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

# The container image (Dockerfile) with the first OCI builder found. buildah runs with the vfs
# storage driver and chroot isolation so that it needs no kernel overlay or user namespaces.
IMAGE ?= floe:dev
image:
	@if command -v docker >/dev/null 2>&1 && docker info >/dev/null 2>&1; then \
		docker build -t $(IMAGE) . ; \
	elif command -v podman >/dev/null 2>&1; then \
		podman build -t $(IMAGE) . ; \
	else \
		command -v buildah >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq buildah >/dev/null; }; \
		STORAGE_DRIVER=vfs buildah --storage-driver vfs build --isolation chroot -t $(IMAGE) . ; \
	fi

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache demo/*/target
