"""Late changes and deletions: a delta misses them, a reconciliation pass lands them.

Calls change for weeks (notes, tags, lead status, value) and spam-flagged calls leave
CallRail's lists; Arrivy tasks are deleted. A delta reads from its bookmark, so it sees
neither. The pass (`reconcile_days`) re-reads the window through tap and target-warehouse:
the changed rows are updated, the rows that vanished inside the window get `_sdc_deleted_at`,
and nothing outside it (older, or within a day of its edges) is touched.
"""

from __future__ import annotations

import bisect

import pytest
import requests

from tests.support.pipelines import (
    arrivy_pipeline,
    assert_equal_to_source,
    callrail_pipeline,
    erp_pipeline,
)
from tests.support.singer_run import run_pipeline


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
    pass_config = {**pipeline.tap_config, "reconcile": True, "reconcile_days": 70}
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

    output = _load(
        "arrivy", {**pipeline.tap_config, "reconcile": True, "reconcile_days": 60}, target_config
    )

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
        {
            **pipeline.tap_config,
            "reconcile": True,
            "reconcile_days": 70,
            "page_size": 50,
            "max_retries": 1,
        },
        target_config,
    )
    assert run.tap_returncode != 0
    found = _table(db, target_schema, "calls", "note")
    assert not any(gone for _, gone in found.values())


def _retired_ids(db, schema: str, table: str) -> set[str]:
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT id::text FROM "{schema}"."{table}" WHERE _sdc_deleted_at IS NOT NULL'
        )
        return {row[0] for row in cursor.fetchall()}


def test_callrail_pass_retires_what_left_its_small_lists(
    callrail_server, target_config, target_schema, db
):
    """A tracker, a tag and a user deleted in one account, an account the key no longer
    sees: each retired, nothing else."""
    pipeline = callrail_pipeline(callrail_server)
    _load("callrail", pipeline.tap_config, target_config)
    account = next(iter(callrail_server.accounts.values()))
    deleted = {
        table: _delete(getattr(account, table), 2) for table in ("trackers", "tags", "users")
    }
    output = _load("callrail", {**pipeline.tap_config, "reconcile": True}, target_config)
    for table, record_id in deleted.items():
        assert _retired_ids(db, target_schema, table) == {record_id}, table
    assert _retired_ids(db, target_schema, "companies") == set()
    assert "Reconciled trackers" in output


def test_arrivy_pass_retires_what_left_its_small_lists_and_a_tasks_history(
    arrivy_server, target_config, target_schema, db
):
    pipeline = arrivy_pipeline(arrivy_server)
    _load("arrivy", pipeline.tap_config, target_config)
    deleted = {
        table: _delete(getattr(arrivy_server, table), 1)
        for table in ("groups", "statuses", "customers", "entities")
    }
    # Tasks 200-280 are scheduled from 20 days back to 20 ahead: inside the 90-day window.
    recent = (arrivy_server.tasks.record(index) for index in range(200, 280))
    task = next(t for t in recent if t and len(arrivy_server.statuses_of(t)) > 1)
    report = str(arrivy_server.statuses_of(task)[0]["id"])
    arrivy_server.removed_status_reports.add(int(report))
    output = _load("arrivy", {**pipeline.tap_config, "reconcile": True}, target_config)
    for table, record_id in deleted.items():
        assert _retired_ids(db, target_schema, table) == {record_id}, table
    assert _retired_ids(db, target_schema, "task_statuses") == {report}
    assert "Reconciled customers in the whole table: 1 rows" in output


def test_erp_pass_leaves_exactly_the_stand_ins_records_live(
    erp_server, target_config, target_schema, db
):
    """3 customers and 2 documents deleted (their positions go with them), and a position
    deleted from a live document: a full read upserts and retires nothing; the pass leaves
    exactly what 4D lists live."""
    pipeline = erp_pipeline(erp_server)
    _load("legacy-erp", pipeline.tap_config, target_config)
    for index in (5, 40, 77):
        erp_server.delete("Kunden", index)
    for index in (12, 200):
        erp_server.delete("Belege", index)
    erp_server.delete("Belege_Pos", 30 * 3 + 1)

    _load("legacy-erp", pipeline.tap_config, target_config)  # a full read without state
    with pytest.raises(AssertionError):
        assert_equal_to_source(db, target_schema, pipeline)

    output = _load("legacy-erp", {**pipeline.tap_config, "reconcile": True}, target_config)
    assert_equal_to_source(db, target_schema, pipeline)
    assert _retired_count(db, target_schema, "kunden") == 3
    assert _retired_count(db, target_schema, "belege") == 2
    assert _retired_count(db, target_schema, "belege_pos") == 2 * 3 + 1
    assert "Reconciled belege_pos in the whole table: 7 rows" in output


def _retired_count(db, schema: str, table: str) -> int:
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT count(*) FROM "{schema}"."{table}" WHERE _sdc_deleted_at IS NOT NULL'
        )
        return cursor.fetchone()[0]
