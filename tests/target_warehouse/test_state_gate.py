"""target_warehouse.state_gate: state is emitted only when everything before it committed,
held while overwrite tables are hidden, and never in a dry run (pure: no Postgres)."""

from __future__ import annotations

import time

from target_warehouse.state_gate import StateGate


def test_a_flush_is_due_after_enough_rows_or_enough_time():
    gate = StateGate(max_rows=3, max_seconds=3600, dry_run=False)
    for _ in range(2):
        gate.count_row()
    assert not gate.flush_due()
    gate.count_row()
    assert gate.flush_due()
    timed = StateGate(max_rows=10**9, max_seconds=0.01, dry_run=False)
    time.sleep(0.02)
    assert timed.flush_due()


def test_every_thousandth_row_asks_for_the_record_age_check():
    gate = StateGate(max_rows=10**9, max_seconds=3600, dry_run=False)
    assert [n for n in range(1, 2001) if gate.count_row()] == [1000, 2000]


def test_a_released_state_is_emitted_once_and_resets_the_counters():
    gate = StateGate(max_rows=1, max_seconds=3600, dry_run=False)
    gate.count_row()
    state = {"bookmarks": {"calls": {"replication_key_value": "2024-01-01"}}}
    assert gate.release(state, tables_hidden=False) == state
    assert gate.rows_since_flush == 0 and not gate.flush_due()
    assert gate.release(dict(state), tables_hidden=False) is None, "the same state again"
    assert gate.bookmarks == state["bookmarks"]


def test_state_is_held_while_overwrite_tables_are_hidden_then_given_at_the_end():
    gate = StateGate(max_rows=1, max_seconds=3600, dry_run=False)
    held = {"bookmarks": {"kunden": {}}}
    assert gate.release(held, tables_hidden=True) is None
    assert gate.emitted is None
    assert gate.final(None) == held
    newer = {"bookmarks": {"kunden": {"x": 1}}}
    assert gate.final(newer) == newer


def test_a_dry_run_emits_no_state():
    gate = StateGate(max_rows=1, max_seconds=3600, dry_run=True)
    assert gate.release({"bookmarks": {}}, tables_hidden=False) is None
    assert gate.bookmarks == {}
