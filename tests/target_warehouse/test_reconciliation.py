"""RECONCILE: rows a re-read window no longer holds are retired, nothing outside it is."""

from __future__ import annotations

import pytest

from tests.target_warehouse.singer import record, rows, run_target, schema, state

PROPS = {
    "id": {"type": "string"},
    "account_id": {"type": "string"},
    "start_time": {"type": "string", "format": "date-time"},
    "note": {"type": ["null", "string"]},
}


def call(number: int, account: str = "A", day: int | None = None, note: str = "n") -> dict:
    day = number if day is None else day
    return record(
        "calls",
        {
            "id": f"{account}{number}",
            "account_id": account,
            "start_time": f"2026-11-{day:02d}T12:00:00+00:00",
            "note": note,
        },
    )


def begin() -> dict:
    return {"type": "RECONCILE", "stream": "calls", "phase": "begin"}


def end(start_day: int, end_day: int, account: str = "A", **extra: object) -> dict:
    return {
        "type": "RECONCILE",
        "stream": "calls",
        "phase": "end",
        "window": {
            "property": "start_time",
            "from": f"2026-11-{start_day:02d}T00:00:00+00:00",
            "to": f"2026-11-{end_day:02d}T23:59:59+00:00",
        },
        "scope": {"account_id": account},
        **extra,
    }


def _deleted(db, target_config) -> dict[str, bool]:
    found = rows(db, target_config["default_target_schema"], "calls")
    return {row["id"]: row["_sdc_deleted_at"] is not None for row in found}


@pytest.fixture
def loaded(db, target_config):
    """Ten calls of account A (days 1-10) and three of account B, loaded by a delta."""
    messages = [schema("calls", PROPS), *(call(n) for n in range(1, 11))]
    messages += [call(n, "B") for n in range(1, 4)]
    run = run_target(target_config, [*messages, state({"bookmarks": {}})])
    assert run.returncode == 0, run.stderr
    return target_config


def test_rows_missing_from_the_window_are_marked_deleted_and_no_others(db, loaded):
    """Days 3-8 of account A re-read without calls 4 and 6: only those two are retired;
    calls outside the window (1, 2, 9, 10) and account B's are not."""
    window = [call(n, note="changed") for n in (3, 5, 7, 8)]
    messages = [schema("calls", PROPS), begin(), *window, end(3, 8), state({"bookmarks": {}})]
    run = run_target(loaded, messages)
    assert run.returncode == 0, run.stderr
    retired = {key for key, gone in _deleted(db, loaded).items() if gone}
    assert retired == {"A4", "A6"}
    notes = {r["id"]: r["note"] for r in rows(db, loaded["default_target_schema"], "calls")}
    assert notes["A5"] == "changed" and notes["A9"] == "n"
    assert "Reconciled calls in start_time in" in run.stderr and ": 2 rows" in run.stderr


def test_unchanged_rows_read_again_are_kept(db, loaded):
    """The upsert does not rewrite an unchanged row, yet it counts as received."""
    window = [call(n) for n in range(1, 11)]
    run = run_target(loaded, [schema("calls", PROPS), begin(), *window, end(1, 10)])
    assert run.returncode == 0, run.stderr
    assert not any(_deleted(db, loaded).values())


def test_a_row_that_comes_back_is_live_again(db, loaded):
    first = [schema("calls", PROPS), begin(), call(1), end(1, 2)]
    assert run_target(loaded, first).returncode == 0
    assert _deleted(db, loaded)["A2"] is True
    again = run_target(loaded, [schema("calls", PROPS), call(2)])
    assert again.returncode == 0, again.stderr
    assert _deleted(db, loaded)["A2"] is False


def test_records_before_begin_do_not_count_as_received(db, loaded):
    """Only what arrives after begin is the window's re-read."""
    messages = [schema("calls", PROPS), call(5), begin(), call(4), end(4, 5)]
    run = run_target(loaded, messages)
    assert run.returncode == 0, run.stderr
    assert _deleted(db, loaded)["A5"] is True and _deleted(db, loaded)["A4"] is False


def test_without_an_end_nothing_is_retired(db, loaded):
    """A tap that dies mid-window sends no end: a partial read retires nothing."""
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1)])
    assert run.returncode == 0, run.stderr
    assert not any(_deleted(db, loaded).values())


def test_hard_delete_removes_the_rows(db, loaded):
    loaded["hard_delete"] = True
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1), end(1, 3)])
    assert run.returncode == 0, run.stderr
    left = {r["id"] for r in rows(db, loaded["default_target_schema"], "calls")}
    assert "A2" not in left and "A3" not in left and {"A1", "A4", "B2"} <= left


def test_a_list_scope_and_a_scope_without_window(db, loaded):
    """scope values may be a list; an end without window retires across the scope."""
    message = {**end(1, 1), "window": None, "scope": {"account_id": ["B", "C"]}}
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1, "B"), message])
    assert run.returncode == 0, run.stderr
    retired = {key for key, gone in _deleted(db, loaded).items() if gone}
    assert retired == {"B2", "B3"}


def test_first_load_of_a_table_counts_its_rows_as_received(db, target_config):
    """An empty table would be COPYed directly; under a reconciliation it is staged so its
    keys count, and nothing just loaded is retired."""
    messages = [schema("calls", PROPS), begin(), call(1), call(2), end(1, 5)]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    assert _deleted(db, target_config) == {"A1": False, "A2": False}


def test_a_missing_window_column_warns_and_retires_nothing(db, loaded):
    message = end(1, 10)
    message["window"]["property"] = "ended_at"
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1), message])
    assert run.returncode == 0, run.stderr
    assert "not reconciled" in run.stderr and "ended_at" in run.stderr
    assert not any(_deleted(db, loaded).values())


def test_append_only_warns_and_retires_nothing(db, loaded):
    loaded["load_method"] = "append-only"
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1), end(1, 10)])
    assert run.returncode == 0, run.stderr
    assert "not reconciled: load_method append-only" in run.stderr


def test_dry_run_retires_nothing(db, loaded):
    loaded["dry_run"] = True
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1), end(1, 10)])
    assert run.returncode == 0, run.stderr
    assert not any(_deleted(db, loaded).values())


@pytest.mark.parametrize(
    ("message", "says"),
    [
        ({"type": "RECONCILE", "stream": "calls", "phase": "later"}, "phase must be"),
        ({"type": "RECONCILE", "stream": "calls", "phase": "end"}, "whole table"),
        ({**end(1, 2), "window": {"property": "start_time"}}, "needs property, from and to"),
        (
            {**end(1, 2), "window": {"property": "start_time", "from": "x", "to": "y"}},
            "not an ISO 8601 time",
        ),
        (
            {
                **end(1, 2),
                "window": {"property": "start_time", "from": "2026-11-01", "to": "2026-11-02"},
            },
            "has no UTC offset",
        ),
        ({**end(1, 2), "scope": {"account_id": {"a": 1}}}, "must be a value or a list"),
        ({"type": "RECONCILE", "stream": "calls"}, "lacks phase"),
    ],
)
def test_malformed_messages_end_in_one_line_and_keep_what_came_before(db, loaded, message, says):
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1, note="kept"), message])
    assert run.returncode == 1
    assert says in run.stderr and "Traceback" not in run.stderr
    assert "input line 4" in run.stderr
    notes = {r["id"]: r["note"] for r in rows(db, loaded["default_target_schema"], "calls")}
    assert notes["A1"] == "kept"


def test_end_without_begin_retires_nothing(db, loaded):
    """Without begin nothing says which keys arrived: a warning, and every row stays."""
    run = run_target(loaded, [schema("calls", PROPS), call(1), end(1, 2)])
    assert run.returncode == 0, run.stderr
    assert "no RECONCILE begin came before" in run.stderr
    assert not any(_deleted(db, loaded).values())


def test_a_schema_change_after_begin_retires_nothing(db, loaded):
    """A changed schema starts the stream's sink anew; what it remembered is gone."""
    wider = {**PROPS, "tags": {"type": ["null", "array"]}}
    messages = [schema("calls", PROPS), begin(), call(1), schema("calls", wider), end(1, 3)]
    run = run_target(loaded, messages)
    assert run.returncode == 0, run.stderr
    assert not any(_deleted(db, loaded).values())


def test_reconcile_before_schema_is_refused(target_config):
    run = run_target(target_config, [begin()])
    assert run.returncode == 1 and "before the stream's SCHEMA" in run.stderr


def test_retirement_is_committed_before_the_state_after_it(db, loaded):
    """The state after an end is emitted only once the retirement is committed."""
    messages = [schema("calls", PROPS), begin(), call(1), end(1, 3)]
    messages.append(state({"bookmarks": {"calls": {"replication_key_value": "x"}}}))
    run = run_target(loaded, messages)
    assert run.returncode == 0, run.stderr
    assert run.states[-1]["bookmarks"]["calls"]["replication_key_value"] == "x"
    assert _deleted(db, loaded)["A3"] is True


def whole_table_end() -> dict:
    return {"type": "RECONCILE", "stream": "calls", "phase": "end", "whole_table": True}


def _history(db, config) -> dict:
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT * FROM "{config["history_schema"]}".sync_history '
            "WHERE sync_type = 'calls' ORDER BY id DESC LIMIT 1"
        )
        names = [d[0] for d in cursor.description]
        return dict(zip(names, cursor.fetchone(), strict=True))


def test_a_whole_table_end_retires_every_key_not_received_and_measures_the_pass(db, loaded):
    """The pass re-reads the table: A1-A10 and B1-B3 were loaded; the source now holds
    A1-A8 (A3 and A5 changed behind the delta's back) and a new A11, and no B at all."""
    source = [call(n) for n in (1, 2, 4, 6, 7, 8)] + [call(3, note="fixed"), call(5, note="x")]
    messages = [schema("calls", PROPS), begin(), *source, call(11), whole_table_end()]
    run = run_target(loaded, [*messages, state({"bookmarks": {}})])
    assert run.returncode == 0, run.stderr
    retired = {key for key, gone in _deleted(db, loaded).items() if gone}
    assert retired == {"A9", "A10", "B1", "B2", "B3"}
    found = _history(db, loaded)
    assert found["reconcile_source_rows"] == 9
    assert found["reconcile_live_before"] == 13
    assert found["reconcile_retired"] == 5
    assert found["reconcile_drift"] == 3  # A3 and A5 changed, A11 was missing
    assert found["records_deleted"] == 5
    assert "the whole table: 5 rows no longer at the source" in run.stderr


def test_drift_counts_rows_brought_back_and_leaves_runs_without_a_pass_blank(db, loaded):
    first = [schema("calls", PROPS), begin(), call(1), call(2), whole_table_end()]
    assert run_target(loaded, first).returncode == 0
    assert _history(db, loaded)["reconcile_live_before"] == 13
    again = [schema("calls", PROPS), begin(), call(1), call(2), call(3), whole_table_end()]
    assert run_target(loaded, again).returncode == 0
    found = _history(db, loaded)
    assert (found["reconcile_live_before"], found["reconcile_drift"]) == (2, 1)  # A3 revived
    assert found["reconcile_retired"] == 0
    assert run_target(loaded, [schema("calls", PROPS), call(4, note="delta")]).returncode == 0
    delta = _history(db, loaded)
    assert delta["reconcile_drift"] is None and delta["reconcile_source_rows"] is None


def test_windowed_ends_are_measured_within_their_scopes(db, loaded):
    window = [call(n) for n in (3, 5, 7, 8)] + [call(4, "B")]
    run = run_target(loaded, [schema("calls", PROPS), begin(), *window, end(3, 8)])
    assert run.returncode == 0, run.stderr
    found = _history(db, loaded)
    assert (found["reconcile_source_rows"], found["reconcile_live_before"]) == (4, 6)
    assert (found["reconcile_retired"], found["reconcile_drift"]) == (2, 1)  # B4 is new


def test_a_whole_table_end_in_a_history_table_closes_versions(db, loaded):
    loaded["load_method"] = "history"
    messages = [schema("calls", PROPS), begin(), call(1), whole_table_end()]
    run = run_target(loaded, messages)
    assert run.returncode == 0, run.stderr
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT id FROM "{loaded["default_target_schema"]}"."calls__current" ORDER BY id'
        )
        assert [row[0] for row in cursor.fetchall()] == ["A1"]
    assert _history(db, loaded)["reconcile_retired"] == 12


@pytest.mark.parametrize(
    "message",
    [
        {**whole_table_end(), "scope": {"account_id": "A"}},
        {**whole_table_end(), "whole_table": "yes"},
    ],
)
def test_a_whole_table_end_takes_no_scope(db, loaded, message):
    run = run_target(loaded, [schema("calls", PROPS), begin(), call(1), message])
    assert run.returncode == 1 and "whole_table" in run.stderr
    assert not any(_deleted(db, loaded).values())
