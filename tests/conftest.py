"""Shared fixtures: a real Postgres for every test that needs the warehouse.

The embedded server (pgserver) starts once per test session in `.warehouse/test-pgdata`;
`WAREHOUSE_TEST_URL` points the suite at an existing server instead. Each test gets its own
schema, so tests never see each other's tables.
"""

from __future__ import annotations

import os
import subprocess
import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg2
import pytest

from sandbox import warehouse
from tests.support.meltano_project import Installed
from tests.support.singer_run import meltano_executable

pytest_plugins = ["sandbox.fixtures", "tests.support.funnel"]

SERVER_FIXTURES = {
    "postgres": {"warehouse_url"},
    "mariadb": {"mariadb_server"},
    "stand_in": {"callrail_server", "arrivy_server", "erp_server"},
    "meltano": {"meltano_installed"},
}
"""The servers a test needs, by the fixtures that start them: `make test-fast` runs the
tests that need none (`-m "not server"`)."""
SERVER_MARKERS = (*SERVER_FIXTURES, "index")
"""A module that starts a server itself says so (`pytestmark = pytest.mark.stand_in`);
`index` is pip installing from the package index."""


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test with the servers its fixtures start (directly or through others),
    and with `server` when it needs any."""
    for item in items:
        used = set(getattr(item, "fixturenames", ()))
        needs = [name for name, fixtures in SERVER_FIXTURES.items() if used & fixtures]
        for name in needs:
            item.add_marker(name)
        explicit = any(item.get_closest_marker(name) for name in SERVER_MARKERS)
        if needs or explicit:
            item.add_marker("server")


ROOT = Path(__file__).resolve().parents[1]
TEST_DATA = Path(warehouse.PROJECT_ROOT) / ".warehouse" / "test-pgdata"


@pytest.fixture(scope="session", autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """Taps keep files in the user's cache folder (tap-legacy-erp: its 4D session); the
    tests, and the taps they start, use a folder of their own."""
    before = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(tmp_path_factory.mktemp("cache"))
    yield
    if before is None:
        os.environ.pop("XDG_CACHE_HOME", None)
    else:
        os.environ["XDG_CACHE_HOME"] = before


@pytest.fixture(scope="session")
def warehouse_url() -> str:
    """libpq URL of the Postgres the tests load into."""
    return os.environ.get("WAREHOUSE_TEST_URL") or warehouse.start(TEST_DATA, stop_at_exit=True)


@pytest.fixture
def db(warehouse_url: str) -> Iterator[psycopg2.extensions.connection]:
    """An autocommit connection for inspecting what landed."""
    connection = psycopg2.connect(warehouse_url)
    connection.autocommit = True
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    yield connection
    connection.close()


@pytest.fixture
def target_schema(db: psycopg2.extensions.connection) -> Iterator[str]:
    """A fresh, empty schema name; dropped after the test."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    yield name
    with db.cursor() as cursor:
        cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        cursor.execute(f'DROP SCHEMA IF EXISTS "{name}_history" CASCADE')


@pytest.fixture
def target_config(warehouse_url: str, target_schema: str) -> dict:
    """target-warehouse settings pointing at the test warehouse and the test's schema."""
    config = warehouse.target_config(warehouse_url)
    config["default_target_schema"] = target_schema
    config["history_schema"] = f"{target_schema}_history"  # each test its own sync history
    return config


MELTANO_PACKAGES = (
    "suite-common", "tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp",
    "target-warehouse", "transform",
)  # fmt: skip
"""The folders meltano.yml installs plugins from (and the dbt project its utility runs)."""


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The project's meltano.yml in a folder of its own (the packages linked in), installed:
    a developer's .env and .meltano/ cannot change what the tests see."""
    executable = meltano_executable()
    folder = tmp_path_factory.mktemp("meltano-project")
    (folder / "meltano.yml").write_text((ROOT / "meltano.yml").read_text())
    for package in MELTANO_PACKAGES:
        (folder / package).symlink_to(ROOT / package)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [executable, "install"], cwd=folder, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Installed(executable, folder)
