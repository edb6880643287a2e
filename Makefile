# Two commands for a fresh machine with Python 3.11 (see README.md):
#   make demo   set everything up, then run `cloudsword demo` on generated data
#   make test   set everything up, then run the test suite (what CI runs)
PYTHON ?= python3.11
VENV := .venv
BIN := $(VENV)/bin
UV_VERSION := 0.13.9

.PHONY: setup demo test lint audit bench clean

# The venv is rebuilt only when the lock file or pyproject changes.
$(VENV)/.installed: requirements.lock pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --disable-pip-version-check uv==$(UV_VERSION)
	$(BIN)/uv pip sync --quiet --python $(BIN)/python requirements.lock
	$(BIN)/uv pip install --quiet --python $(BIN)/python --no-deps -e .
	CLOUDSWORD_HOME=$(CURDIR)/cloudsword_home $(BIN)/dbt parse --quiet --project-dir dbt_project --profiles-dir dbt_project
	touch $@

setup: $(VENV)/.installed

demo: setup
	$(BIN)/cloudsword demo

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

# Known vulnerabilities in the pinned dependencies (pip-audit); CI runs it before the tests.
# CLOUDSWORD_AUDIT_REQUIRED=1 also fails when the advisory service cannot be reached.
audit: setup
	$(BIN)/python .ci/audit_dependencies.py

bench: setup
	$(BIN)/python bench/run_bench.py --scale small

# requirements.lock is made from pyproject.toml; run after changing dependencies.
lock:
	$(BIN)/uv pip compile pyproject.toml --extra dev --python-version 3.11 \
		--python-platform x86_64-unknown-linux-gnu -o requirements.lock

clean:
	rm -rf $(VENV) dbt_project/target
