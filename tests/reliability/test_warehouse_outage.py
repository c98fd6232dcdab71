"""Postgres goes away in the middle of a load (the server is stopped, then started again):
the run ends in one clear line, the saved state does not run ahead of what was committed,
and the next run completes the warehouse exactly."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psycopg2
import pytest

from sandbox.legacy_erp import LegacyErpStandIn
from tests.reliability.crash_resume import run
from tests.support.pipelines import assert_equal_to_source, erp_pipeline

pytestmark = pytest.mark.postgres

ROOT = Path(__file__).resolve().parents[2]


def start_server(data: Path) -> str:
    """The embedded Postgres in `data`, started by a process of its own (it outlives it)."""
    code = (
        "from pathlib import Path; from sandbox import warehouse; "
        f"print(warehouse.start(Path({str(data)!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT
    )
    return done.stdout.strip().splitlines()[-1]


def stop_server(data: Path) -> None:
    """What an outage looks like to a client: the postmaster shuts down at once (SIGINT,
    Postgres' fast shutdown), ending every session."""
    pid_file = data / "postmaster.pid"
    os.kill(int(pid_file.read_text().split()[0]), signal.SIGINT)
    deadline = time.monotonic() + 30
    while pid_file.exists() and time.monotonic() < deadline:
        time.sleep(0.05)


def committed_documents(url: str, pipeline) -> int:
    with contextlib.closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{pipeline.schema}".belege',))
        if cursor.fetchone()[0] is None:
            return 0
        cursor.execute(f'SELECT count(*) FROM "{pipeline.schema}".belege')
        return cursor.fetchone()[0]


def test_postgres_going_away_mid_run_loses_nothing(tmp_path):
    data = tmp_path / "pgdata"
    url = start_server(data)
    server = LegacyErpStandIn(documents=12000).start()
    pipeline = erp_pipeline(server)
    state = tmp_path / "state.json"
    try:

        def stop_when_loading() -> None:
            deadline = time.monotonic() + 60
            while committed_documents(url, pipeline) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop_server(data)  # the server goes away while batches are loading

        failed = run(pipeline, url, state, during=stop_when_loading)
        assert failed.returncode == 1
        lines = [line for line in failed.errors.splitlines() if "error:" in line]
        assert lines and lines[-1].startswith("target-warehouse: error:"), failed.errors[-2000:]
        assert "Traceback" not in failed.errors

        url = start_server(data)  # back again, with what was committed before
        saved = json.loads(state.read_text()) if state.exists() else {}
        documents = committed_documents(url, pipeline)
        assert 0 < documents < 12000, "the outage came in the middle of the load"
        belege = (saved.get("bookmarks") or {}).get("belege") or {}
        assert "replication_key_value" not in belege, "no bookmark beyond committed data"

        finished = run(pipeline, url, state)
        assert finished.returncode == 0, finished.errors[-2000:]
        with contextlib.closing(psycopg2.connect(url)) as db:
            assert_equal_to_source(db, pipeline.schema, pipeline)
    finally:
        server.stop()
        if (data / "postmaster.pid").exists():
            stop_server(data)
