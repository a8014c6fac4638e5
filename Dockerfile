# syntax=docker/dockerfile:1
# One image for every LMP service and the console; the command chooses it:
#   docker run lmp:dev serve registry        (voting, expertise, kpi, notifications)
#   docker run lmp:dev serve kpi --components consumers
#   docker run lmp:dev console               (the web console, port 8080)
# The embedded servers (libs/devstack, the `embedded` extra and the dev group) are never
# installed here.

ARG PYTHON_IMAGE=python:3.11-slim-bookworm
ARG UV_IMAGE=ghcr.io/astral-sh/uv:0.13.9

FROM ${UV_IMAGE} AS uv

FROM ${PYTHON_IMAGE} AS build
COPY --from=uv /uv /usr/local/bin/uv
ENV UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/opt/lmp
WORKDIR /src
# Third-party dependencies first: this layer changes only with uv.lock.
COPY pyproject.toml uv.lock ./
COPY libs/kit/pyproject.toml libs/kit/
COPY libs/contracts/pyproject.toml libs/contracts/
COPY libs/devstack/pyproject.toml libs/devstack/
COPY libs/proto/pyproject.toml libs/proto/
COPY services/registry/pyproject.toml services/registry/
COPY services/voting/pyproject.toml services/voting/
COPY services/expertise/pyproject.toml services/expertise/
COPY services/kpi/pyproject.toml services/kpi/
COPY services/notifications/pyproject.toml services/notifications/
COPY apps/console/pyproject.toml apps/console/
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-install-workspace --no-editable
# Then the workspace itself, installed as packages (no source tree in the final image).
COPY . .
RUN --mount=type=cache,target=/root/.cache/uv \
    uv sync --locked --no-dev --no-editable
COPY --chmod=0755 deploy/docker/healthcheck.py /opt/lmp/bin/lmp-healthcheck

FROM ${PYTHON_IMAGE} AS runtime
# libpq: psycopg (the PostgreSQL event store) is the pure-Python build and loads it.
# Debian's security updates replace libpq5 in place; a pinned version would stop building.
# hadolint ignore=DL3008
RUN apt-get update \
    && apt-get install -y --no-install-recommends libpq5 \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --system --gid 10001 lmp \
    && useradd --system --uid 10001 --gid lmp --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin lmp
COPY --from=build --chown=root:root /opt/lmp /opt/lmp
ENV PATH=/opt/lmp/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    LMP_GRPC_HOST=0.0.0.0 \
    LMP_CONSOLE_HOST=0.0.0.0 \
    LMP_DATA_DIR=/tmp/lmp \
    LMP_EVENT_STORE=postgres
# Numeric, so Kubernetes can verify runAsNonRoot without resolving the name.
USER 10001:10001
WORKDIR /tmp
EXPOSE 50051-50055 9101-9105 8080
STOPSIGNAL SIGTERM
ENTRYPOINT ["lmp"]
CMD ["serve", "registry"]
