# Two commands for a newcomer: `make demo` and `make test`.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
PACKAGES := target-warehouse tap-arrivy tap-callrail tap-genius tap-legacy-erp
# The taps take suite-common from its folder as a direct reference (see their pyproject);
# for development it is then made editable in place.
SHARED := suite-common
EDITABLES := -e .[test] $(foreach p,$(PACKAGES),-e ./$(p)[test])
STAMP := $(VENV)/.installed
# Meltano in a venv of its own, as pipx would install it: it pins its own SQLAlchemy and
# friends, and installs each plugin into .meltano/ anyway. MELTANO is what the tests call.
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed

.PHONY: install test lint docs demo demo-down psql benchmark clean

$(STAMP): pyproject.toml $(foreach p,$(PACKAGES) $(SHARED),$(p)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(EDITABLES)
	$(BIN)/pip install --quiet --no-deps -e ./$(SHARED)
	touch $(STAMP)

$(MELTANO_STAMP):
	$(PYTHON) -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/pip install --quiet "meltano>=4.4,<5"
	touch $(MELTANO_STAMP)

install: $(STAMP) $(MELTANO_STAMP)

test: $(STAMP) $(MELTANO_STAMP)
	MELTANO=$(abspath $(MELTANO)) $(BIN)/pytest -q

lint: $(STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

PLUGINS := tap-arrivy tap-callrail tap-genius tap-legacy-erp target-warehouse

# Settings pages of every plugin, as its own --about prints them (tests check they are current).
docs: $(STAMP)
	mkdir -p docs/plugins
	$(foreach p,$(PLUGINS),$(BIN)/$(p) --about --format markdown > docs/plugins/$(p).md;)

demo: $(STAMP) $(MELTANO_STAMP)
	MELTANO=$(abspath $(MELTANO)) $(BIN)/python -m sandbox.demo

demo-down: $(STAMP)
	$(BIN)/python -m sandbox down

psql: $(STAMP)
	psql "$$($(BIN)/python -m sandbox.warehouse url)"

benchmark: $(STAMP)
	$(BIN)/python tests/benchmarks/target_warehouse_load.py --records 200000

clean:
	rm -rf $(VENV) $(MELTANO_VENV) .warehouse .pytest_cache .ruff_cache
