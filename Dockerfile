# syntax=docker/dockerfile:1
# sloguard operator image. The install steps are hack/install.sh, the same script CI runs
# (tests/packaging/test_dockerfile.py runs these two steps outside a container engine).

# --- build: sloguard and all its dependencies as wheels ------------------------------------
FROM python:3.12-slim-bookworm AS build
WORKDIR /src
COPY pyproject.toml README.md requirements.lock ./
COPY operator/ operator/
COPY hack/install.sh hack/install.sh
RUN bash hack/install.sh wheels /wheels

# --- promtool: Prometheus' own rule validation, built from the Go module proxy ---------------
# The operator runs `promtool check rules` on every generated rule before applying it and
# refuses to start without it (see operator/sloguard/adapters/promtool.py). Same version as
# hack/build-tools.sh (Prometheus 3.16 = module v0.316.0); static, so it runs on the slim image.
FROM golang:1.26-bookworm AS promtool
ARG PROMETHEUS_VERSION=v0.316.0
RUN CGO_ENABLED=0 GOBIN=/out GOFLAGS=-buildvcs=false \
    go install -trimpath -ldflags="-s -w" "github.com/prometheus/prometheus/cmd/promtool@${PROMETHEUS_VERSION}"

# --- runtime: only the wheels, no compiler, no pip cache, non-root -------------------------
FROM python:3.12-slim-bookworm AS runtime
# Build with: --build-arg VERSION=$(version) --build-arg REVISION=$(git rev-parse HEAD) --build-arg SOURCE=<repo URL>
ARG VERSION=0.1.0
ARG REVISION=unknown
ARG SOURCE=unknown
LABEL org.opencontainers.image.title="sloguard" \
      org.opencontainers.image.description="Kubernetes operator for SLOs, error budgets, budget policies and SLAs" \
      org.opencontainers.image.licenses="Apache-2.0" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.source="${SOURCE}"
# Webhook certificates are made in Python (cryptography) when none are mounted: no openssl needed.
WORKDIR /app
COPY --from=build /wheels /wheels
COPY --from=promtool /out/promtool /usr/local/bin/promtool
COPY hack/install.sh hack/install.sh
RUN bash hack/install.sh runtime /wheels && rm -rf /wheels
# Read-only root filesystem friendly: nothing is written outside /tmp (an emptyDir in the chart).
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    HOME=/tmp
RUN groupadd --system --gid 10001 sloguard \
 && useradd --system --uid 10001 --gid 10001 --home-dir /tmp --shell /usr/sbin/nologin sloguard
USER 10001:10001
# 8080 liveness, 8081 the operator's /metrics (--metrics-address), 9443 the webhook.
EXPOSE 8080 8081 9443
# kopf's liveness endpoint (`sloguard run --liveness`, default http://0.0.0.0:8080/healthz).
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
ENTRYPOINT ["sloguard", "run"]
