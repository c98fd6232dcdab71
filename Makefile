# Two commands for a newcomer: `make demo` and `make test`.
# Another Python: `make test PYTHON=python3.10` (its own .venv-python3.10).
PYTHON ?= python3
# Under pyenv, every installed version answers (the selected one first), so PYTHON may
# name any of them without `pyenv shell`.
PYENV_ALL := $(shell pyenv version-name 2>/dev/null):$(shell pyenv versions --bare 2>/dev/null | paste -sd: -)
ifneq ($(PYENV_ALL),:)
export PYENV_VERSION ?= $(PYENV_ALL)
endif
VENV := $(if $(filter python3,$(PYTHON)),.venv,.venv-$(notdir $(PYTHON)))
BIN := $(VENV)/bin
PACKAGES := target-warehouse tap-arrivy tap-callrail tap-genius tap-legacy-erp
# The taps take suite-common from its folder as a direct reference (see their pyproject);
# for development it is then made editable in place.
SHARED := suite-common
EDITABLES := -e .[test] $(foreach p,$(PACKAGES),-e ./$(p)[test])
# orchestrate (Dagster) goes into the same venv; it takes target-warehouse from its folder
# as a direct reference, which pip cannot unite with the editable one in a single command.
ORCHESTRATE := orchestrate
STAMP := $(VENV)/.installed
# Meltano in a venv of its own, as pipx would install it: it pins its own SQLAlchemy and
# friends, and installs each plugin into .meltano/ anyway. MELTANO is what the tests call.
MELTANO_VENV := .venv-meltano
MELTANO := $(MELTANO_VENV)/bin/meltano
MELTANO_STAMP := $(MELTANO_VENV)/.installed

.PHONY: install test test-fast smoke mariadb-server lint docs demo demo-down orchestrate psql benchmark clean

$(STAMP): pyproject.toml $(foreach p,$(PACKAGES) $(SHARED) $(ORCHESTRATE),$(p)/pyproject.toml)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet $(EDITABLES)
	$(BIN)/pip install --quiet -e ./$(ORCHESTRATE)
	$(BIN)/pip install --quiet --no-deps -e ./$(SHARED) -e ./target-warehouse
	touch $(STAMP)

$(MELTANO_STAMP):
	python3 -m venv $(MELTANO_VENV)
	$(MELTANO_VENV)/bin/pip install --quiet --upgrade pip
	$(MELTANO_VENV)/bin/pip install --quiet "meltano[postgres]>=4.4,<5"
	touch $(MELTANO_STAMP)

# Two other Singer taps of MySQL, singer-io's and pipelinewise's (PyPI), each in a venv of
# its own (they pin old libraries): the tests load their output over the Genius test
# database through target-warehouse, an oracle the suite's own tap cannot share. Test-only,
# outside the suite's environment: tap-mysql is published as a pure-Python sdist alone, and
# pipelinewise pins pendulum 2.1.2, which has no wheel past Python 3.9 (pip builds both).
OTHER_TAPS := .venv-other-taps
OTHER_TAPS_STAMP := $(OTHER_TAPS)/.installed
$(OTHER_TAPS_STAMP):
	python3 -m venv $(OTHER_TAPS)/singer-io
	$(OTHER_TAPS)/singer-io/bin/pip install --quiet "tap-mysql==1.17.7"
	python3 -m venv $(OTHER_TAPS)/pipelinewise
	$(OTHER_TAPS)/pipelinewise/bin/pip install --quiet "pipelinewise-tap-mysql==1.6.0"
	touch $(OTHER_TAPS_STAMP)

install: $(STAMP) $(MELTANO_STAMP) $(OTHER_TAPS_STAMP)

test: $(STAMP) $(MELTANO_STAMP) $(OTHER_TAPS_STAMP) mariadb-server
	MELTANO=$(abspath $(MELTANO)) OTHER_TAPS=$(abspath $(OTHER_TAPS)) $(BIN)/pytest -q

# The tests that need no server (no Postgres, MariaDB, stand-in or Meltano; see the
# markers in tests/conftest.py): the quick loop while working.
test-fast: $(STAMP)
	$(BIN)/pytest -q -m "not server"

# tap-genius is tested against a real MariaDB: installed where this user can (root with
# apt), else one line says how; GENIUS_TEST_URL points the tests at a server instead.
mariadb-server:
	@[ -n "$$GENIUS_TEST_URL" ] || command -v mariadbd >/dev/null || [ -x /usr/sbin/mariadbd ] || \
	if [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null; then \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq mariadb-server >/dev/null; \
	else \
		echo "make test needs a MariaDB server for tap-genius: sudo apt-get install mariadb-server, or set GENIUS_TEST_URL=mysql+pymysql://user:password@host/db"; \
		exit 1; \
	fi

# On another Python (CI: 3.10 and 3.13): each plugin installed as users install it (not
# editable), its --about, and the tests that need no server (without the suite's conftest,
# which starts servers; pgserver has no wheel for every Python).
SMOKE_VENV := .venv-smoke-$(notdir $(PYTHON))
SMOKE_TESTS := tests/suite_common tests/tap_arrivy/test_edge_cases.py \
	tests/tap_callrail/test_edge_cases.py \
	tests/tap_genius/test_keyset.py tests/target_warehouse/test_column_types.py \
	tests/target_warehouse/test_naming.py
# In tests/suite_common, the tests that run the taps against the stand-ins (servers).
SMOKE_SKIP := tests/suite_common/test_isolation.py tests/suite_common/test_new_fields.py
smoke:
	rm -rf $(SMOKE_VENV)
	$(PYTHON) -m venv $(SMOKE_VENV)
	$(SMOKE_VENV)/bin/pip install --quiet --upgrade pip
	$(SMOKE_VENV)/bin/pip install --quiet $(foreach p,$(PACKAGES),./$(p)) pytest requests-mock
	$(foreach p,$(PLUGINS),$(SMOKE_VENV)/bin/$(p) --about > /dev/null &&) true
	$(SMOKE_VENV)/bin/python -m pytest -q -p no:cacheprovider --noconftest $(SMOKE_TESTS) \
		$(foreach t,$(SMOKE_SKIP),--ignore=$(t))

# mypy in a venv of its own, as Meltano is: its pathspec (>=1) and dbt-core's (<0.13) cannot
# share one. It reads the packages installed in $(VENV) for their types.
MYPY_VENV := .venv-mypy
MYPY_STAMP := $(MYPY_VENV)/.installed
# The shared layer and the target are checked whole; see docs/development.md.
TYPED := suite-common/suite_common target-warehouse/target_warehouse

$(MYPY_STAMP):
	$(PYTHON) -m venv $(MYPY_VENV)
	$(MYPY_VENV)/bin/pip install --quiet "mypy>=2.4,<2.5"
	touch $(MYPY_STAMP)

lint: $(STAMP) $(MYPY_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(MYPY_VENV)/bin/mypy --python-executable $(BIN)/python $(TYPED)

PLUGINS := tap-arrivy tap-callrail tap-genius tap-legacy-erp target-warehouse

# Each plugin's page: its --about, streams, Meltano variables (tests check they are current).
docs: $(STAMP)
	$(BIN)/python docs/generate.py

demo: $(STAMP) $(MELTANO_STAMP)
	MELTANO=$(abspath $(MELTANO)) $(BIN)/python -m sandbox.demo

demo-down: $(STAMP)
	$(BIN)/python -m sandbox down

# Dagster's UI on http://127.0.0.1:3000 over the sandbox (started if it is not up): every
# Meltano job, schedule and table; the instance (runs, logs) in .dagster/.
DAGSTER_HOME := $(abspath .dagster)
orchestrate: $(STAMP) $(MELTANO_STAMP)
	$(BIN)/python -m sandbox up
	$(MELTANO) install
	mkdir -p $(DAGSTER_HOME) && cp orchestrate/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	DAGSTER_HOME=$(DAGSTER_HOME) MELTANO=$(abspath $(MELTANO)) MELTANO_ENVIRONMENT=sandbox \
		$(BIN)/dagster dev -m orchestrate.definitions -h 127.0.0.1 -p 3000

psql: $(STAMP)
	psql "$$($(BIN)/python -m sandbox.warehouse url)"

benchmark: $(STAMP)
	$(BIN)/python tests/benchmarks/target_warehouse_load.py --records 200000

clean:
	rm -rf .venv .venv-* .warehouse .dagster .pytest_cache .ruff_cache
