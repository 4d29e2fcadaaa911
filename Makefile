# Two commands work on a fresh clone: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= svidok-demo
DEMO_SCALE ?= 2000

.PHONY: demo test lint typecheck bench clean services

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e '.[dev,bench]'
	touch $(STAMP)

# The demo register holds fictional data only; its passphrase is public on purpose.
DEMO_PASSPHRASE ?= svidok demo passphrase

## Build the fictional demo register (encrypted SQLite, linked, indexed), print one-time logins,
## and serve it on http://127.0.0.1:8000/ (Ctrl-C stops it).
demo: $(STAMP)
	rm -rf $(DEMO_DIR) $(DEMO_DIR)-truth
	@echo "demo register: $(DEMO_DIR) (passphrase: '$(DEMO_PASSPHRASE)'); ground truth: $(DEMO_DIR)-truth"
	SVIDOK_PASSPHRASE='$(DEMO_PASSPHRASE)' $(BIN)/svidok --data-dir $(DEMO_DIR) demo --scale $(DEMO_SCALE) --seed 7

## Install everything and run the whole test suite (SQLite and PostgreSQL).
test: $(STAMP) services
	$(BIN)/pytest -q -p no:cacheprovider

## Check that the services the tests need are up; under CI=true a missing one fails the run.
services:
	@bash .ci/check-services

lint: $(STAMP)
	$(BIN)/ruff check src tests bench

typecheck: $(STAMP)
	$(BIN)/mypy

bench: $(STAMP)
	$(BIN)/python bench/run.py

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_DIR)-truth .pytest_cache .mypy_cache .ruff_cache
