# floe: one image for the Dagster webserver, daemon, code servers and run pods
# (charts/floe-platform). `make image` builds it with docker, podman or buildah.
#
# Runtime contract: runs as UID/GID 10001, works with a read-only root filesystem; the
# writable paths are volumes: /tmp (also HOME), /var/lib/floe (FLOE_HOME), /var/lib/dagster
# (DAGSTER_HOME) and a product's target/ and logs/.

# ---- build: the locked runtime dependency set (no dev group) in /opt/floe/venv -----------
FROM docker.io/library/python:3.12-slim-bookworm AS build
COPY --from=ghcr.io/astral-sh/uv:0.13.9 /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 UV_LINK_MODE=copy UV_PROJECT_ENVIRONMENT=/opt/floe/venv \
    UV_PYTHON_DOWNLOADS=never
WORKDIR /src
# Dependencies first (cached while only floe's sources change), then floe itself.
COPY pyproject.toml uv.lock README.md LICENSE ./
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra k8s --no-install-project
COPY src ./src
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --frozen --no-dev --extra k8s --no-editable

# ---- runtime ---------------------------------------------------------------------------------
FROM docker.io/library/python:3.12-slim-bookworm
RUN groupadd --gid 10001 floe && useradd --uid 10001 --gid 10001 --no-create-home \
        --home-dir /tmp --shell /usr/sbin/nologin floe \
    && mkdir -p /var/lib/floe /var/lib/dagster /opt/floe \
    && chown 10001:10001 /var/lib/floe /var/lib/dagster
COPY --from=build /opt/floe/venv /opt/floe/venv
# The demo products (values-demo.yaml points the code locations at them).
COPY demo /opt/floe/demo
ENV PATH=/opt/floe/venv/bin:$PATH \
    HOME=/tmp \
    FLOE_HOME=/var/lib/floe \
    DAGSTER_HOME=/var/lib/dagster \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1
VOLUME ["/tmp", "/var/lib/floe", "/var/lib/dagster"]
USER 10001:10001
WORKDIR /opt/floe
ENTRYPOINT ["floe"]
CMD ["--help"]
