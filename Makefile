# EDA Lab Workbook. Quick start: `make lab` (set up and open the workbook), `make test`.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
PORT   ?= 8888
# Two workers: one per core; each starts its own stack on free ports.
PYTEST_ARGS ?= -n 2

.PHONY: install lab up down status test test-fast labs check-labs bench freeze clean help

help:
	@echo "make lab     set up .venv, start the embedded stack, open JupyterLab on the workbook"
	@echo "make test    run the whole test suite (starts its own stack on free ports)"
	@echo "make up/down/status   the embedded lab stack;  make bench   print the benchmarks"

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

test: install
	$(BIN)/python -m pytest $(PYTEST_ARGS)

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
