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
import threading
import time
from pathlib import Path

import psycopg2

from sandbox import warehouse
from sandbox.legacy_erp import LegacyErpStandIn
from tests.pipelines import assert_equal_to_source, erp_pipeline

BIN = Path(sys.executable).parent
ROOT = Path(__file__).resolve().parents[2]


def load(pipeline, url: str, state: Path, folder: Path, during=None) -> subprocess.CompletedProcess:
    """`tap-legacy-erp | target-warehouse` from `state`, keeping each STATE the target
    writes; `during(target)` runs while the load goes on."""
    tap_path, target_path = folder / "tap.json", folder / "target.json"
    tap_path.write_text(json.dumps(pipeline.tap_config))
    target_path.write_text(
        json.dumps(
            {
                **warehouse.target_config(url),
                "default_target_schema": pipeline.schema,
                "history_schema": f"{pipeline.schema}_history",
                "batch_size_rows": 1000,
            }
        )
    )
    command = [str(BIN / "tap-legacy-erp"), "--config", str(tap_path)]
    if state.exists():
        command += ["--state", str(state)]
    tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    target = subprocess.Popen(
        [str(BIN / "target-warehouse"), "--config", str(target_path)],
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    tap.stdout.close()
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(target.stderr.read()))
    reader.start()
    if during is not None:
        during(target)
    for line in target.stdout:
        if line.strip():
            state.write_bytes(line)
    target.wait()
    tap.wait()
    reader.join()
    return subprocess.CompletedProcess(target.args, target.returncode, b"", errors[0])


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

        def stop_when_loading(target: subprocess.Popen) -> None:
            deadline = time.monotonic() + 60
            while committed_documents(url, pipeline) == 0 and time.monotonic() < deadline:
                time.sleep(0.05)
            stop_server(data)  # the server goes away while batches are loading

        failed = load(pipeline, url, state, tmp_path, during=stop_when_loading)
        assert failed.returncode == 1
        lines = [line for line in failed.stderr.decode().splitlines() if "error:" in line]
        assert lines and lines[-1].startswith("target-warehouse: error:"), failed.stderr[-2000:]
        assert "Traceback" not in failed.stderr.decode()

        url = start_server(data)  # back again, with what was committed before
        saved = json.loads(state.read_text()) if state.exists() else {}
        documents = committed_documents(url, pipeline)
        assert 0 < documents < 12000, "the outage came in the middle of the load"
        belege = (saved.get("bookmarks") or {}).get("belege") or {}
        assert "replication_key_value" not in belege, "no bookmark beyond committed data"

        finished = load(pipeline, url, state, tmp_path)
        assert finished.returncode == 0, finished.stderr.decode()[-2000:]
        with contextlib.closing(psycopg2.connect(url)) as db:
            assert_equal_to_source(db, pipeline.schema, pipeline)
    finally:
        server.stop()
        if (data / "postmaster.pid").exists():
            stop_server(data)
