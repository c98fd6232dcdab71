"""Late changes and deletions: a delta misses them, a reconciliation pass lands them.

Calls change for weeks (notes, tags, lead status, value) and spam-flagged calls leave
CallRail's lists; Arrivy tasks are deleted. A delta reads from its bookmark, so it sees
neither. The pass (`reconcile_days`) re-reads the window through tap and target-warehouse:
the changed rows are updated, the rows that vanished inside the window get `_sdc_deleted_at`,
and nothing outside it (older, or within a day of its edges) is touched.
"""

from __future__ import annotations

import bisect

import requests

from tests.pipelines import arrivy_pipeline, callrail_pipeline
from tests.singer_run import run_pipeline


def _delete(collection, index: int) -> str:
    """Delete record `index` at the source; its id."""
    record_id = str(collection.record(index)["id"])
    with collection.lock:
        bisect.insort(collection.deleted, index)
        collection.changed.pop(index, None)
    return record_id


def _table(db, schema: str, table: str, value: str) -> dict[str, tuple]:
    with db.cursor() as cursor:
        cursor.execute(f'SELECT id, {value}, _sdc_deleted_at FROM "{schema}"."{table}"')
        return {row[0]: (row[1], row[2] is not None) for row in cursor.fetchall()}


def _load(source: str, tap_config: dict, target_config: dict) -> str:
    run = run_pipeline(f"tap-{source}", tap_config, target_config)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-3000:]
    assert "Traceback" not in run.output
    return run.output


def test_callrail_pass_retires_vanished_calls_and_lands_late_changes(
    callrail_server, target_config, target_schema, db
):
    pipeline = callrail_pipeline(callrail_server)
    _load("callrail", pipeline.tap_config, target_config)
    account = next(iter(callrail_server.accounts.values()))
    calls = account.calls  # 300 calls over the last 90 days: 0.3 days apart
    spam = _delete(calls, 150)  # 45 days ago: inside a 70-day window
    too_old = _delete(calls, 17)  # 85 days ago: outside it
    at_the_edge = _delete(calls, 299)  # hours ago: within a day of the window's end
    changed = calls.record(100)  # 60 days ago: far behind any delta's look-back
    changed["note"] = "Customer called back: booked"
    calls.changed[100] = changed

    _load("callrail", pipeline.tap_config, target_config)  # a plain first-run read again
    pass_config = {**pipeline.tap_config, "reconcile_days": 70}
    output = _load("callrail", pass_config, target_config)

    found = _table(db, target_schema, "calls", "note")
    retired = {key for key, (_, gone) in found.items() if gone}
    assert retired == {spam}
    assert not found[too_old][1] and not found[at_the_edge][1]
    assert found[str(changed["id"])] == ("Customer called back: booked", False)
    live = {str(c["id"]) for a in callrail_server.accounts.values() for c in a.calls.live_records()}
    assert live <= {key for key, (_, gone) in found.items() if not gone}
    assert "Reconciled calls" in output and "1 rows no longer at the source" in output


def test_arrivy_pass_retires_deleted_tasks_scheduled_and_unscheduled(
    arrivy_server, target_config, target_schema, db
):
    pipeline = arrivy_pipeline(arrivy_server)
    _load("arrivy", pipeline.tap_config, target_config)
    # 300 tasks scheduled from 120 days back to 30 days ahead, half a day apart.
    past = _delete(arrivy_server.tasks, 200)  # 20 days ago
    ahead = _delete(arrivy_server.tasks, 280)  # 20 days ahead
    too_old = _delete(arrivy_server.tasks, 40)  # 100 days ago: outside a 60-day window
    unscheduled = _delete(arrivy_server.unscheduled, 3)

    output = _load("arrivy", {**pipeline.tap_config, "reconcile_days": 60}, target_config)

    found = _table(db, target_schema, "tasks", "title")
    retired = {key for key, (_, gone) in found.items() if gone}
    assert retired == {past, ahead, unscheduled}
    assert not found[too_old][1]
    assert "Reconciled tasks" in output


def test_a_failed_pass_retires_nothing(callrail_server, target_config, target_schema, db):
    """The API fails midway through the window: no end, so nothing is marked."""
    pipeline = callrail_pipeline(callrail_server)
    _load("callrail", pipeline.tap_config, target_config)
    account = next(iter(callrail_server.accounts.values()))
    _delete(account.calls, 150)
    fault = {"kind": "503", "times": 50, "after": 2, "path": "/calls"}
    requests.post(f"{callrail_server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)
    run = run_pipeline(
        "tap-callrail",
        {**pipeline.tap_config, "reconcile_days": 70, "page_size": 50, "max_retries": 1},
        target_config,
    )
    assert run.tap_returncode != 0
    found = _table(db, target_schema, "calls", "note")
    assert not any(gone for _, gone in found.values())
