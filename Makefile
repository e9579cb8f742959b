# scrmbench: every target builds the virtual environment it needs first.
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PYTEST_ARGS ?=

.PHONY: demo test lint typecheck unit bench soak mock clean help

help:
	@echo "make demo   - set up, start the mock and reference vendors, run a short bake-off, write a scorecard"
	@echo "make test   - set up, lint, type-check and run the whole test suite"
	@echo "make bench  - run every benchmark in bench/ (each prints a ratio on its last line; the soak in its 90 s form)"
	@echo "make soak   - the one-hour memory soak of the whole loop (fails when RSS grows 5% per hour or more)"
	@echo "make mock   - start the mock WhatsApp Cloud API on 127.0.0.1:8900"

$(STAMP): pyproject.toml
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "scrmbench needs Python 3.11 or newer; set PYTHON=python3.11")'
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/scrmbench demo

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	@$(BIN)/python -m pytest $(PYTEST_ARGS); status=$$?; \
	if [ $$status -eq 5 ]; then echo "pytest collected no tests: failing on purpose" >&2; exit 1; fi; exit $$status

test: lint typecheck unit

# The one-hour soak is not part of `make bench`: there it runs its --quick form; `make soak` runs the hour.
bench: $(STAMP)
	@set -e; for script in bench/[!_]*.py; do \
		case $$script in bench/soak_memory.py) args=--quick ;; *) args= ;; esac; \
		echo "== $$script $$args"; $(BIN)/python $$script $$args; \
	done

soak: $(STAMP)
	$(BIN)/python bench/soak_memory.py

mock: $(STAMP)
	$(BIN)/scrmbench mock serve

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
