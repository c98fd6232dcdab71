"""pytest fixtures that run each stand-in in-process on an ephemeral loopback port.

Registered by the project's conftest (`pytest_plugins`). Each test gets a fresh server, so
faults, rate limits and mutations never leak between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest
import sqlalchemy as sa

from sandbox import genius, mariadb
from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from sandbox.legacy_erp import LegacyErpStandIn
from sandbox.mariadb import MariaDB


@pytest.fixture
def callrail_server() -> Iterator[CallRailStandIn]:
    """CallRail v3 stand-in with two accounts and 300 calls each."""
    server = CallRailStandIn(calls_per_account=300).start()
    yield server
    server.stop()


@pytest.fixture
def arrivy_server() -> Iterator[ArrivyStandIn]:
    """Arrivy stand-in with 300 scheduled tasks (bare JSON arrays, updated_after honoured)."""
    server = ArrivyStandIn(tasks=300).start()
    yield server
    server.stop()


@pytest.fixture
def erp_server() -> Iterator[LegacyErpStandIn]:
    """Legacy 4D ERP REST stand-in with 300 documents and at most 4 sessions."""
    server = LegacyErpStandIn(documents=300).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def mariadb_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[MariaDB]:
    """A real MySQL-compatible server for the session: `GENIUS_TEST_URL` when set, else a
    throwaway MariaDB in a temporary folder. Without either, the tests that need one skip
    and say why (never a silent pass)."""
    url = os.environ.get("GENIUS_TEST_URL")
    if url:
        yield mariadb.external(url)
        return
    try:
        server = mariadb.start(tmp_path_factory.mktemp("mariadb"))
    except mariadb.UnavailableError as reason:
        pytest.skip(f"no MySQL-compatible server: {reason} (or set GENIUS_TEST_URL)")
    yield server
    server.stop()


@pytest.fixture
def genius_db(mariadb_server: MariaDB) -> Iterator[sa.Engine]:
    """The Genius tables freshly seeded (300 appointments) in the session's MariaDB."""
    engine = sa.create_engine(mariadb_server.url)
    genius.seed(engine, appointments=300)
    yield engine
    engine.dispose()
