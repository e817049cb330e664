# The front door. `make synth` and `make test` work on a fresh clone: the first
# run creates .venv from the pinned requirements and installs the pinned cdk CLI.
ENV ?= dev
STACK ?=
REF ?= HEAD
SERVICE ?=
SINCE ?= 10m
FOLLOW ?=
CMD ?=
CONFIG ?=
COMPOSE ?=
ARGS ?=
VENV := .venv
PY := $(VENV)/bin/python
CHECKOV_VENV := .venv-checkov
CDK := node_modules/.bin/cdk
CDK_FLAGS := --context env=$(ENV) --no-notices $(if $(CONFIG),--context config=$(CONFIG))
# The config folder for `python -m infra` (default config/).
CONFIG_FLAG := $(if $(CONFIG),--config $(CONFIG))

# jsii prints a banner on every run under Node 20 (end-of-life since 2026-10);
# it works, and the banner would bury real warnings. Node 22+ prints nothing.
export JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION := 20
export CDK_DISABLE_CLI_TELEMETRY := true
# On linux x64, npm installs Node.js 22 into node_modules (package.json); the cdk
# CLI and jsii (the CDK's Python-to-JavaScript bridge) then run on it: a synth
# takes about a quarter less CPU than on Node 20. Elsewhere the system node runs.
export PATH := $(CURDIR)/node_modules/.bin:$(PATH)

.PHONY: help deps import synth checkov show preview cost test lint fmt deploy diff destroy ls local bench clean preflight status logs exec smoke

help:
	@echo "make synth [ENV=dev]            templates for one env into cdk.out/ (offline)"
	@echo "make checkov [ENV=dev]          synth, then checkov over cdk.out/"
	@echo "make show ENV=prod              the resolved config, each value with its origin"
	@echo "make preview ENV=prod [REF=..]  what the working tree changes against REF (HEAD), offline"
	@echo "make cost ENV=all               estimated always-on monthly cost"
	@echo "make import COMPOSE=compose.yaml [CONFIG=DIR]   config from your compose file"
	@echo "make ls ENV=prod                the stacks of one env, in deploy order"
	@echo "make test                       the whole test suite"
	@echo "make lint                       ruff and mypy"
	@echo "make fmt                        ruff format and autofix"
	@echo "make deploy ENV=prod [STACK=..] preflight, then deploy all stacks, or one (with --exclusively)"
	@echo "make diff ENV=prod              preflight, then compare with what is deployed"
	@echo "make destroy ENV=dev            delete the env's stacks"
	@echo "make preflight ENV=prod         AWS credentials, account and CDK bootstrap, in seconds"
	@echo "make status ENV=prod            stacks, tasks, deployments, target health, URL"
	@echo "make logs ENV=prod SERVICE=frontend [SINCE=10m] [FOLLOW=1]   a service's logs"
	@echo "make exec ENV=prod SERVICE=frontend [CMD='ls /app']          a shell or CMD in a task"
	@echo "make smoke ENV=prod             GET each public URL; the visit count must rise"
	@echo "make local                      frontend + redis on 127.0.0.1:5000, no Docker"
	@echo "make bench                      synth and frontend benchmarks"
	@echo "make clean                      remove cdk.out and tool caches"

# The import at the end: jsii unpacks each library's JavaScript (aws-cdk-lib:
# about 200 MB) into ~/.cache/aws/jsii on first use; once here, at install,
# not in each process that synthesizes first on a fresh machine.
$(VENV)/.installed: requirements.txt requirements-dev.txt frontend/requirements.txt constraints.txt
	python3 -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -r requirements-dev.txt -c constraints.txt
	$(PY) -c "import aws_cdk, cdk_nag, cdklabs.cdk_validator_cfnguard"
	touch $@

node_modules/.installed: package.json package-lock.json
	npm ci --no-audit --no-fund --silent
	touch $@

$(CHECKOV_VENV)/.installed: requirements-checkov.txt
	python3 -m venv $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet -r requirements-checkov.txt
	touch $@

# checkov (a 290 MB venv of its own) only for the targets that run it.
deps: $(VENV)/.installed node_modules/.installed

# cdk-nag runs inside every synth: an unacknowledged finding fails it. A fresh
# cdk.out: templates of another env or a removed service would otherwise stay
# beside this env's, and `checkov -d cdk.out` would read them.
synth: deps
	rm -rf cdk.out
	$(CDK) synth $(CDK_FLAGS) --quiet

# A fresh cdk.out, so only this env's templates are checked.
checkov: deps $(CHECKOV_VENV)/.installed
	rm -rf cdk.out
	$(CDK) synth $(CDK_FLAGS) --quiet
	BC_SKIP_MAPPING=TRUE $(CHECKOV_VENV)/bin/checkov --directory cdk.out \
	  --framework cloudformation --skip-download --compact --quiet

ls: deps
	$(CDK) ls $(CDK_FLAGS)

show: deps
	$(PY) -m infra config show --env $(ENV) $(CONFIG_FLAG)

# Exit 1 only says there are changes; make fails on 2 (could not run) and 3
# (stateful resources replaced or removed).
preview: deps
	$(PY) -m infra preview --env $(ENV) $(CONFIG_FLAG) --against $(REF) || [ $$? -eq 1 ]

cost: deps
	$(PY) -m infra cost --env $(ENV) $(CONFIG_FLAG)

# COMPOSE=path/to/compose.yaml [CONFIG=DIR] [ARGS='--public web --force']
import: deps
	@test -n "$(COMPOSE)" || { echo "usage: make import COMPOSE=compose.yaml [CONFIG=DIR] [ARGS=...]"; exit 2; }
	$(PY) -m infra import $(COMPOSE) $(if $(CONFIG),--out $(CONFIG)) $(ARGS)

# A run starts some 25 Python processes (workers, synths, CLI calls) that import
# the same modules: bytecode written by the first saves the rest compiling them
# (and pytest rewriting the test modules' asserts), where the machine says not to.
test: deps $(CHECKOV_VENV)/.installed
	bin/system-deps
	PYTHONDONTWRITEBYTECODE= $(PY) -m pytest -n auto

lint: deps
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy
	MYPYPATH=frontend $(VENV)/bin/mypy frontend bench tests/frontend

fmt: deps
	$(VENV)/bin/ruff format .
	$(VENV)/bin/ruff check --fix .

# The day-2 commands and the preflight need AWS credentials (boto3): see
# "Operating it" in README.md. Before a deploy or diff, the preflight stops
# in seconds on a missing login or bootstrap, not after a synth.
preflight: deps
	$(PY) -m infra preflight --env $(ENV) $(CONFIG_FLAG)

status: deps
	$(PY) -m infra status --env $(ENV) $(CONFIG_FLAG)

logs: deps
	$(PY) -m infra logs --env $(ENV) $(CONFIG_FLAG) $(SERVICE) --since $(SINCE) $(if $(FOLLOW),--follow)

exec: deps
	$(PY) -m infra exec --env $(ENV) $(CONFIG_FLAG) $(SERVICE) $(if $(CMD),-- $(CMD))

smoke: deps
	$(PY) -m infra smoke --env $(ENV) $(CONFIG_FLAG)

deploy: deps
	$(PY) -m infra preflight --env $(ENV) $(CONFIG_FLAG)
ifeq ($(STACK),)
	$(CDK) deploy --all $(CDK_FLAGS)
else
	$(CDK) deploy $(CDK_FLAGS) --exclusively $(STACK)
endif

diff: deps
	$(PY) -m infra preflight --env $(ENV) $(CONFIG_FLAG)
	$(CDK) diff $(CDK_FLAGS) $(STACK)

destroy: deps
	$(CDK) destroy --all $(CDK_FLAGS)

local: deps
	bin/local

bench: deps
	$(PY) bench/synth.py
	$(PY) bench/frontend.py
	$(PY) bench/preview.py

clean:
	rm -rf cdk.out .pytest_cache .mypy_cache .ruff_cache .hypothesis .cache
