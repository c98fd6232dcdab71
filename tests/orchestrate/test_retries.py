"""A pipeline whose tap is killed mid-run is retried by Dagster, resumes from the state the
target committed, and the warehouse ends equal to the source (real Meltano, real Dagster,
the CallRail stand-in slowed so the kill lands mid-stream)."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import sqlite3
import subprocess
import threading
import time

import dagster as dg
import requests
from orchestrate.definitions import build_definitions

from tests.orchestrate.conftest import history_rows, project_for
from tests.support.pipelines import assert_equal_to_source, callrail_pipeline

QUICK_RETRY = dg.RetryPolicy(max_retries=2, delay=0.5)


def committed_call_bookmarks(meltano_db) -> int:
    """How many accounts' calls bookmarks Meltano has stored for the pipeline so far."""
    if not meltano_db.exists():
        return 0
    with (
        contextlib.closing(sqlite3.connect(meltano_db)) as connection,
        contextlib.suppress(sqlite3.OperationalError),  # Meltano has not made its tables yet
    ):
        for row in connection.execute("SELECT partial_state, completed_state FROM state"):
            for stored in row:
                state = json.loads(stored or "{}").get("singer_state") or {}
                partitions = state.get("bookmarks", {}).get("calls", {}).get("partitions", [])
                found = [p for p in partitions if p.get("replication_key_value")]
                if found:
                    return len(found)
    return 0


def failed_tries(db, history: str, run_id: str) -> set[str]:
    """The errors the run's failed sync-history rows carry (the killed try's)."""
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT DISTINCT error_message FROM "{history}".sync_history '
            "WHERE meltano_run_id = %s AND status = 'failed'",
            (run_id,),
        )
        return {row[0] for row in cursor.fetchall()}


def tap_processes(folder) -> list[int]:
    """The PIDs of the tap-callrail processes Meltano started from this project."""
    executable = str(folder / ".meltano" / "extractors" / "tap-callrail")
    found = subprocess.run(["pgrep", "-f", executable], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


def kill_the_tap_once_a_bookmark_is_committed(meltano_db, folder, killed: list[int]) -> None:
    """SIGKILL the tap once the first account's calls are committed, mid-second account."""
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline and not killed:
        if committed_call_bookmarks(meltano_db) > 0:
            for pid in tap_processes(folder):
                os.kill(pid, signal.SIGKILL)
                killed.append(pid)
        time.sleep(0.1)


def test_a_killed_tap_is_retried_resumes_from_committed_state_and_lands_exactly(
    meltano_installed, warehouse_url, db, tmp_path, callrail_server, schemas
):
    pipeline = callrail_pipeline(callrail_server)
    env = {
        **pipeline.env,
        "TAP_CALLRAIL_PAGE_SIZE": "25",
        "TAP_CALLRAIL_LOOKBACK_MINUTES": "0",
        "TARGET_WAREHOUSE_BATCH_SIZE_ROWS": "50",
        "TARGET_WAREHOUSE_STATE_FLUSH_MAX_ROWS": "50",
        "TARGET_WAREHOUSE_STATE_FLUSH_MAX_SECONDS": "1",
    }
    project, history = project_for(meltano_installed, tmp_path, warehouse_url, schemas, **env)
    _, second = list(callrail_server.accounts)  # in the order the API lists them
    requests.post(
        f"{callrail_server.url}/_sandbox/faults",
        json={"faults": [{"kind": "slow", "delay": 0.3, "path": f"/a/{second}/", "times": 40}]},
        timeout=5,
    )
    schema = schemas["tap-callrail"]
    killed: list[int] = []
    killer = threading.Thread(
        target=kill_the_tap_once_a_bookmark_is_committed,
        args=(tmp_path / "meltano.db", project.folder, killed),
    )
    killer.start()
    job = build_definitions(project, retry_policy=QUICK_RETRY).resolve_job_def("callrail")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    killer.join()

    assert killed, "the tap was never seen running"
    retried = [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    assert len(retried) == 1
    assert failed_tries(db, history, result.run_id) == {
        "the tap stopped without an error of its own (killed, or out of memory)"
    }
    assert result.success
    assert_equal_to_source(db, schema, pipeline)
    total = sum(1 for a in callrail_server.accounts.values() for _ in a.calls.live_records())
    calls = history_rows(db, history, result.run_id)["calls"]
    assert calls["status"] == "success"
    # The retry resumed: the first account's calls from its committed bookmark (the call at
    # the bookmark again), the second account's from the start.
    second_calls = sum(1 for _ in callrail_server.accounts[second].calls.live_records())
    assert second_calls <= calls["records_processed"] < total
