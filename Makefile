# Two commands work on a fresh clone: `make demo` and `make test`.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DEMO_DIR ?= svidok-demo
DEMO_SCALE ?= 2000

LOCK   := requirements/lock.txt
# pip itself, pinned by hash and installed before the lock (why: see the file).
PIP_LOCK := requirements/pip.txt
# Pass options to bench/run.py, e.g. `make bench ARGS="--only demo"` or ARGS=--dry-run.
ARGS ?=
# Extra options for `make lock`, e.g. LOCK_FLAGS=--upgrade (every pin) or `--upgrade-package NAME`.
LOCK_FLAGS ?=

.PHONY: demo test lint typecheck bench clean services lock audit

# Every dependency comes from $(LOCK), pinned with the sha256 of each of its files: pip refuses
# anything else. The project itself is built with the locked setuptools (no isolated build, which
# would fetch an unchecked one).
$(STAMP): $(LOCK) $(PIP_LOCK) pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11+ is required")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --require-hashes -r $(PIP_LOCK)
	$(BIN)/pip install --quiet --require-hashes -r $(LOCK)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .
	touch $(STAMP)

## Re-pin every dependency of pyproject.toml (runtime, dev, bench, and theirs) with the hashes of all
## their files, for every platform and Python >= 3.11. Existing pins are kept where they still fit.
lock: $(STAMP)
	$(BIN)/uv pip compile --quiet --universal --python-version 3.11 --generate-hashes --all-extras \
	  --custom-compile-command 'make lock' $(LOCK_FLAGS) -o $(LOCK) pyproject.toml requirements/build.in

## Check the locked dependencies against known vulnerabilities (skipped with a notice when offline).
audit: $(STAMP)
	bash .ci/pip-audit

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

## Run every benchmark at quick sizes (ARGS=--full for 1,000,000 records), one table in bench/RESULTS.md.
bench: $(STAMP)
	$(BIN)/python bench/run.py $(ARGS)

clean:
	rm -rf $(VENV) $(DEMO_DIR) $(DEMO_DIR)-truth .pytest_cache .mypy_cache .ruff_cache
