# The two commands a newcomer needs are `make up` and `make test` (see README.md).
# Everything is fetched and built on first use and cached under var/ (ignored by git).

SHELL := /bin/bash
UV_VERSION := 0.13.8
TOOLS := var/cache/tools
UV := $(TOOLS)/bin/uv
export UV_PYTHON_DOWNLOADS := never
export UV_LINK_MODE := copy

.PHONY: up test demo bench openapi faults clean-data help

help:
	@echo "make up      run the whole system locally (Kafka, document store, four services)"
	@echo "make test    run the test suite against real servers"
	@echo "make bench   benchmarks: event backbone, registry, reports and notify at scale (prints tables, writes bench/results/latest.json)"
	@echo "make demo    replay the 2023 Tam Đường plan through the four services (run make up first; files under var/demo/)"
	@echo "make faults  faults under load, full schedule: kill -9 every process kind, Kafka restart, store outage, stalled consumer (prints a summary table)"
	@echo "make openapi export each service's OpenAPI document into services/*/openapi.json"

# uv itself, in a private venv, so nothing is installed into the system Python.
$(UV):
	@command -v python3 >/dev/null || { echo "Python 3.11 is required (python3 not found)"; exit 1; }
	@python3 -c 'import sys; sys.exit(0 if sys.version_info[:2] == (3, 11) else 1)' || { echo "Python 3.11 is required, found $$(python3 --version)"; exit 1; }
	python3 -m venv $(TOOLS)
	$(TOOLS)/bin/pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)

.venv/.synced: $(UV) uv.lock pyproject.toml libs/tdkt/pyproject.toml services/*/pyproject.toml deploy/local/pyproject.toml
	$(UV) sync --frozen --all-packages
	@touch $@

up: .venv/.synced
	$(UV) run --frozen --no-sync python -m tdkt_localstack up

test: .venv/.synced
	@if [ -z "$$TDKT_TEST_KAFKA_BOOTSTRAP" ]; then $(UV) run --frozen --no-sync python -m tdkt_localstack prepare; fi
	@# tests/deploy checks the compose files with `docker compose config` (no engine needed); without a
	@# docker client or its compose plugin, the compose CLI is built from the Go module proxy (cached)
	@if ! { command -v docker >/dev/null && docker compose version >/dev/null 2>&1; }; then bash deploy/compose/build-cli.sh; fi
	$(UV) run --frozen --no-sync pytest

bench: .venv/.synced
	$(UV) run --frozen --no-sync python -m bench.backbone
	$(UV) run --frozen --no-sync python -m bench.registry
	$(UV) run --frozen --no-sync python -m bench.reports
	$(UV) run --frozen --no-sync python -m bench.notify
	$(UV) run --frozen --no-sync python -m bench.e2e
	$(UV) run --frozen --no-sync python -m bench.http
	$(UV) run --frozen --no-sync python -m bench.awards
	$(UV) run --frozen --no-sync python -m bench.growth
	$(UV) run --frozen --no-sync python -m bench.report

demo: .venv/.synced
	$(UV) run --frozen --no-sync python -m tdkt_localstack demo

faults: .venv/.synced
	@if [ -z "$$TDKT_TEST_KAFKA_BOOTSTRAP" ]; then $(UV) run --frozen --no-sync python -m tdkt_localstack prepare; fi
	TDKT_FAULTS=full $(UV) run --frozen --no-sync pytest -s tests/faults

openapi: .venv/.synced
	$(UV) run --frozen --no-sync python -m tdkt.openapi services

clean-data:
	rm -rf var/data var/log var/run var/tmp
