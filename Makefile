# Wirewatch: `make run` starts everything; `make test` runs the whole suite. Both set themselves up.
SHELL := /bin/bash
PY ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
export WIREWATCH_FEED_ALLOWED_HOSTS ?= 127.0.0.1,localhost
DEMO_PORT ?= 8765
# pytest-xdist workers for `make test` (the tests that start whole stacks still run one at a time)
TEST_WORKERS ?= 2

.PHONY: run stop test setup kafka kafka-stop lint unit eval bench bench-ingest bench-enrich bench-api bench-sink bench-backfill bench-freshness bench-pages bench-polling chaos fuzz clean

$(STAMP): pyproject.toml constraints.txt
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -c constraints.txt -e '.[dev]'
	@touch $(STAMP)

UI_STAMP := api/http/static/vendor/.built

$(UI_STAMP): deploy/ui/package-lock.json deploy/ui/build.sh
	deploy/ui/build.sh
	@touch $(UI_STAMP)

setup: $(STAMP) $(UI_STAMP)
	@deploy/kafka.sh jars

kafka: setup
	@deploy/kafka.sh start

kafka-stop:
	@deploy/kafka.sh stop

## run: Kafka + the demo feed + every service on embedded defaults (Ctrl-C stops what it started);
## a second `make run` while one runs says so and touches nothing (deploy/stack.sh)
run: setup
	@PY=$(BIN)/python DEMO_PORT=$(DEMO_PORT) deploy/stack.sh

## stop: the local Kafka of this checkout (after a `make kafka`); a running `make run` stops with Ctrl-C
stop:
	@deploy/kafka.sh stop

lint: setup
	$(BIN)/ruff check services ingest enrich api tests
	$(BIN)/mypy services ingest enrich api
	$(BIN)/lint-imports

## test: everything — lint, types, unit, integration (real Kafka, SQLite and PostgreSQL), end-to-end, browser
test: setup
	@deploy/postgres.sh install
	@deploy/chromium.sh
	@if [ -x deploy/validate.sh ]; then deploy/validate.sh; fi
	$(BIN)/ruff check services ingest enrich api tests
	$(BIN)/mypy services ingest enrich api
	$(BIN)/lint-imports
	$(BIN)/python -m pytest -q -p no:cacheprovider --durations=15 -n $(TEST_WORKERS) --no-loadscope-reorder

unit: setup
	$(BIN)/python -m pytest -q tests/unit

eval: setup
	$(BIN)/python -m tests.eval.run

## bench: every benchmark plus the end-to-end one, one table, var/bench/results.json
bench: kafka
	$(BIN)/python -m tests.bench.run

## chaos: the long fault-injection run (N >= 2,000 articles; WIREWATCH_CHAOS_N=10000 for 10,000, the waits
## scale with it); a short form runs inside `make test`
chaos: setup
	WIREWATCH_CHAOS=long $(BIN)/python -m pytest -q -p no:cacheprovider tests/chaos

## fuzz: schemathesis in all four phases (examples, coverage, fuzzing, stateful), 200 cases per operation;
## `make test` runs the same at 8
fuzz: setup
	WIREWATCH_FUZZ_EXAMPLES=200 $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz

bench-ingest: kafka
	$(BIN)/python -m tests.bench.ingest

bench-enrich: setup
	$(BIN)/python -m tests.bench.enrich

bench-api: setup
	$(BIN)/python -m tests.bench.api

bench-sink: setup
	$(BIN)/python -m tests.bench.sink

## bench-backfill: 50,000 farm articles through ingest -> enrich (2 processes) -> sink on a real Kafka;
## per-stage rates and lag over time, end-to-end articles/s, exactly-once check (var/bench/backfill.json)
bench-backfill: kafka
	$(BIN)/python -m tests.bench.backfill

## bench-freshness: the e2e freshness figures (polled: fetch -> stored; pushed: push -> webhook) while a
## background stream of 100 articles/s flows through the live stack (var/bench/freshness.json)
bench-freshness: kafka
	$(BIN)/python -m tests.bench.freshness

## bench-pages: 100,000 feeds in each store, the real API in its own process; p95 of the dashboard's and
## GET /feeds pages against the 50 ms goal (var/bench/pages.json)
bench-pages: setup
	$(BIN)/python -m tests.bench.pages

## bench-polling: 100,000 farm feeds (one in ten updating) polled by the real ingest service for an hour:
## the share of polls within their interval + 10 %, feeds overdue, ingest RSS (var/bench/polling.json)
bench-polling: kafka
	$(BIN)/python -m tests.bench.polling

clean: stop
	rm -rf var
