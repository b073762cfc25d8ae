# EDA Lab Workbook. Quick start: `make lab` (set up and open the workbook), `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Two workers: one per core; each starts its own stack on free ports.
PYTEST_ARGS ?= -n 2

.PHONY: install lab up down status test test-fast test-localstack labs check-labs bench freeze clean help

help:
	@echo "make lab     set up .venv, start the embedded stack, open JupyterLab on the workbook"
	@echo "make test    run the whole test suite (starts its own stack on free ports)"
	@echo "make test-localstack   notebooks 05-08, the labs and the parity suite on LocalStack (no Docker)"
	@echo "make up/down/status   the embedded lab stack;  make bench   print the benchmarks"
	@echo "make hub     (as root) a class on this machine: JupyterHub, LEARNERS=3 generated accounts"

$(STAMP): requirements.txt pyproject.toml
	@test -d $(VENV) || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $@

install: $(STAMP)

up: install
	$(BIN)/edalab up

down:
	@test -x $(BIN)/edalab && $(BIN)/edalab down || true

status: install
	$(BIN)/edalab status

lab: install up
	JUPYTER_CONFIG_PATH=$(CURDIR)/edalab/jupyter $(BIN)/jupyter lab --ServerApp.ip=127.0.0.1 --port=$(PORT) \
	  --ServerApp.root_dir=$(CURDIR) $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00-start-here.ipynb

test: install $(PROXY)
	$(BIN)/python -m pytest $(PYTEST_ARGS)

# LocalStack from PyPI in host mode, in .venv-localstack (Python 3.13), on a free port; the
# course runs against it with EDALAB_TARGET=compose. Skips with a notice if no Python 3.13.
test-localstack: install
	$(BIN)/python tests/localstack/run.py

# The class hub (docs/classroom.md): JupyterHub's proxy pinned in classroom/proxy/package-lock.json.
PROXY := classroom/proxy/node_modules/.bin/configurable-http-proxy
LEARNERS ?= 3
HUB_PORT ?= 8000

$(PROXY): classroom/proxy/package.json classroom/proxy/package-lock.json
	cd classroom/proxy && npm ci --no-audit --no-fund
	@touch $@

hub-install: install $(PROXY)

hub: hub-install
	$(BIN)/edalab hub up --learners $(LEARNERS) --port $(HUB_PORT)

hub-down:
	@test -x $(BIN)/edalab && $(BIN)/edalab hub down || true

labs: install
	$(BIN)/edalab grade generate

check-labs: install
	$(BIN)/edalab grade generate --check

bench: install
	@for b in bench/*.py; do echo "== $$b"; $(BIN)/python $$b || exit 1; done

freeze: install
	{ head -2 requirements.txt; $(BIN)/python -m pip freeze --exclude-editable; } > requirements.tmp && mv requirements.tmp requirements.txt

clean: down
	rm -rf .edalab artifacts
