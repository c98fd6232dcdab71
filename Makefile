# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := suite-common target-warehouse tap-arrivy tap-callrail tap-genius tap-legacy-erp
EDITABLES := -e .[test] $(foreach p,$(PACKAGES),-e ./$(p)[test])
STAMP := $(VENV)/.installed

.PHONY: install test lint demo demo-down psql benchmark clean

$(STAMP): pyproject.toml $(foreach p,$(PACKAGES),$(p)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(EDITABLES)
	touch $(STAMP)

install: $(STAMP)

test: $(STAMP)
	$(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

demo: $(STAMP)
	$(BIN)/python -m sandbox.demo

demo-down: $(STAMP)
	$(BIN)/python -m sandbox down

psql: $(STAMP)
	psql "$$($(BIN)/python -m sandbox.warehouse url)"

benchmark: $(STAMP)
	$(BIN)/python tests/benchmarks/target_warehouse_load.py --records 200000

clean:
	rm -rf $(VENV) .warehouse .pytest_cache .ruff_cache
