"""target_warehouse.state_gate: state is emitted only when everything before it committed,
held while overwrite tables are hidden, and never in a dry run. First the gate alone (no
Postgres), then the target it guards: flushed regularly in a long run, and never ahead of
committed rows when the target is killed."""

from __future__ import annotations

import random
import time

from target_warehouse.state_gate import StateGate

from tests.target_warehouse.singer import record, rows, run_and_kill, run_target, schema, state


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


# The target it guards ---------------------------------------------------------------------

PROPS = {"id": {"type": "integer"}, "payload": {"type": ["null", "string"]}}


def _stream(start: int, stop: int) -> list:
    messages: list = [schema("events", PROPS)]
    for i in range(start, stop):
        messages.append(record("events", {"id": i, "payload": "x" * 200}))
        if i % 50 == 49:
            messages.append(state({"bookmarks": {"events": {"last_id": i}}}))
    messages.append(state({"bookmarks": {"events": {"last_id": stop - 1}}}))
    return messages


def test_state_is_flushed_during_a_long_run_not_only_at_the_end(db, target_config):
    target_config.update(state_flush_max_rows=500, batch_size_rows=200)
    run = run_target(target_config, _stream(0, 3000))
    assert run.returncode == 0, run.stderr
    positions = [s["bookmarks"]["events"]["last_id"] for s in run.states]
    assert len(positions) >= 5
    assert positions == sorted(positions) and positions[-1] == 2999


def test_killed_target_never_emitted_state_ahead_of_committed_rows(db, target_config):
    """SIGKILL at random points: every emitted bookmark is covered by committed rows."""
    schema_name = target_config["default_target_schema"]
    target_config.update(state_flush_max_rows=300, batch_size_rows=120)
    rng = random.Random(7)
    total = 4000
    messages = _stream(0, total)
    killed_with_state = 0
    for attempt in range(6):
        seen = run_and_kill(target_config, messages, rng.randint(500, 4000), rng.uniform(0.6, 1.6))
        killed_with_state += bool(seen)
        last = seen[-1]["bookmarks"]["events"]["last_id"] if seen else -1
        landed = {r["id"] for r in rows(db, schema_name, "events")}
        assert set(range(last + 1)) <= landed, f"attempt {attempt}: state ran ahead of data"
        resumed = run_target(target_config, _stream(last + 1, total))
        assert resumed.returncode == 0, resumed.stderr
        landed_rows = rows(db, schema_name, "events")
        assert [r["id"] for r in landed_rows] == list(range(total)), "no gap, no duplicate"
        with db.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{schema_name}".events')
    assert killed_with_state >= 2, "too few kills landed after a state was emitted"
