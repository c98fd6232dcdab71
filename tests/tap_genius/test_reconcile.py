"""A reconciliation pass reads every selected table whole, whatever the bookmarks, framed
by RECONCILE messages: begin after the SCHEMA, a whole-table end after the last record."""

from __future__ import annotations

from tests.support.singer_run import run_tap
from tests.tap_genius.conftest import ids, table_ids


def reconcile_messages(run, stream):
    return [m for m in run.messages if m["type"] == "RECONCILE" and m["stream"] == stream]


def test_the_pass_reads_every_row_whatever_the_bookmark(genius_config, genius_db):
    streams = ["appointments", "leads", "appointment_services"]
    first = run_tap("tap-genius", genius_config, select=streams)
    assert first.returncode == 0, first.stderr
    run = run_tap(
        "tap-genius", {**genius_config, "reconcile": True}, state=first.final_state, select=streams
    )
    assert run.returncode == 0, run.stderr
    assert sorted(ids(run.records("appointments"), "id")) == table_ids(genius_db, "appointment")
    assert sorted(ids(run.records("leads"), "lead_id")) == table_ids(genius_db, "lead", "lead_id")
    pairs = ids(run.records("appointment_services"), "appointment_id", "service_id")
    assert len(pairs) == len(set(pairs)) == _count(genius_db, "appointment_to_service")
    for stream in streams:
        messages = [m for m in run.messages if m.get("stream") == stream]
        kinds = [(m["type"], m.get("phase")) for m in messages]
        assert kinds[:2] == [("SCHEMA", None), ("RECONCILE", "begin")], stream
        last_record = max(i for i, (kind, _) in enumerate(kinds) if kind == "RECORD")
        (end,) = [m for m in messages if m.get("phase") == "end"]
        assert end == {"type": "RECONCILE", "stream": stream, "phase": "end", "whole_table": True}
        assert messages.index(end) > last_record


def test_a_fallback_change_column_is_still_emitted(genius_config, genius_db):
    """leads follow updated_at or else added_on (`changed_at`): read by key, it is still set."""
    run = run_tap("tap-genius", {**genius_config, "reconcile": True}, select=["leads"])
    assert run.returncode == 0, run.stderr
    assert all(r["changed_at"] == (r["updated_at"] or r["added_on"]) for r in run.records("leads"))


def test_a_capped_read_is_not_reconciled(genius_config, genius_db):
    config = {**genius_config, "reconcile": True, "max_records": 10}
    run = run_tap("tap-genius", config, select=["appointments"])
    assert run.returncode == 0, run.stderr
    assert reconcile_messages(run, "appointments") == []
    assert "appointments is read but not reconciled: max_records reads only part" in run.stderr


def test_without_reconcile_no_reconcile_message(genius_config, genius_db):
    run = run_tap("tap-genius", genius_config, select=["appointments"])
    assert reconcile_messages(run, "appointments") == []


def _count(engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT COUNT(*) FROM `{table}`").scalar()
