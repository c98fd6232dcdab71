"""The load methods (load_method, load_methods): each method object's answers, then what
lands in the tables when the target loads with append-only, overwrite and history, as its
users run it. Upsert, every method's base, is what test_loading loads."""

from __future__ import annotations

import datetime
import itertools

import pytest
from target_warehouse import load_methods
from target_warehouse.loading import BatchResult
from target_warehouse.settings import CONFIG_SCHEMA

from tests.target_warehouse.singer import record, rows, run_and_kill, run_target, schema, state


def method(name: str) -> load_methods.LoadMethod:
    config = {"load_method": "upsert", "load_methods": {"calls": name}}
    return load_methods.for_stream(config, "calls", "callrail", "calls")


def test_the_settings_offer_every_method_and_only_those():
    offered = CONFIG_SCHEMA["properties"]["load_method"]["enum"]
    assert (
        offered
        == list(load_methods.METHODS)
        == [
            "append-only",
            "upsert",
            "overwrite",
            "history",
        ]
    )


def test_a_streams_entry_in_load_methods_wins_over_load_method():
    config = {"load_method": "upsert", "load_methods": {"calls": "history"}}
    assert load_methods.for_stream(config, "calls", "s", "calls").name == "history"
    assert load_methods.for_stream(config, "texts", "s", "texts").name == "upsert"
    assert load_methods.for_stream({"load_method": "overwrite"}, "x", "s", "x").name == (
        "overwrite"
    )


@pytest.mark.parametrize(
    ("name", "keys", "reconcilable", "written"),
    [
        ("upsert", ["id"], True, 5),
        ("append-only", [], False, 5),
        ("overwrite", ["id"], False, 5),
        ("history", ["id"], True, 3),
    ],
)
def test_what_each_method_answers(name, keys, reconcilable, written):
    chosen = method(name)
    assert chosen.table_keys(["id"]) == keys
    assert (chosen.why_not_reconciled() is None) is reconcilable
    assert chosen.rows_written(BatchResult(created=3, updated=2)) == written


def test_only_history_keeps_versions_and_never_hard_deletes():
    assert [m for m in load_methods.METHODS if method(m).keeps_history] == ["history"]
    assert method("upsert").hard_deletes({"hard_delete": True})
    assert not method("history").hard_deletes({"hard_delete": True})
    assert method("history").retired(hard_delete=True) == "closed"
    assert method("upsert").retired(hard_delete=False) == "marked deleted"


def test_only_overwrite_leaves_retiring_to_its_swap():
    assert [m for m in load_methods.METHODS if not method(m).retires_on_activate] == ["overwrite"]


# append-only and overwrite -------------------------------------------------------------

PROPS = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}


def test_append_only_keeps_every_record(db, target_config):
    target_config["load_method"] = "append-only"
    messages = [schema("events", PROPS)] + [
        record("events", {"id": 1, "name": name}) for name in ("a", "b", "c")
    ]
    assert run_target(target_config, messages).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "events", order_by="name")
    assert [r["name"] for r in landed] == ["a", "b", "c"]


def test_overwrite_replaces_the_table_whole(db, target_config):
    target_config["load_method"] = "overwrite"
    first = [schema("prices", PROPS)] + [
        record("prices", {"id": i, "name": "old"}) for i in range(5)
    ]
    assert run_target(target_config, first).returncode == 0
    second = [
        schema("prices", PROPS),
        record("prices", {"id": 7, "name": "new"}),
        record("prices", {"id": 8, "name": "new"}),
        state({"done": True}),
    ]
    run = run_target(target_config, second)
    assert run.returncode == 0, run.stderr
    assert run.states == [{"done": True}]
    landed = rows(db, target_config["default_target_schema"], "prices")
    assert [(r["id"], r["name"]) for r in landed] == [(7, "new"), (8, "new")]
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_tables WHERE schemaname = %s",
            (target_config["default_target_schema"],),
        )
        assert cursor.fetchone()[0] == 1, "the shadow table must be gone after the swap"


def test_overwrite_killed_before_the_end_leaves_the_old_table(db, target_config):
    target_config["load_method"] = "overwrite"
    first = [schema("prices", PROPS), record("prices", {"id": 1, "name": "old"})]
    assert run_target(target_config, first).returncode == 0
    broken = [
        schema("prices", PROPS),
        record("prices", {"id": 2, "name": "new"}),
        state({"n": 1}),
        "{not json",
    ]
    run = run_target(target_config, broken)
    assert run.returncode == 1
    assert run.states == [], "state must not advance before the new table is swapped in"
    landed = rows(db, target_config["default_target_schema"], "prices")
    assert [(r["id"], r["name"]) for r in landed] == [(1, "old")]


# history (SCD type 2) ------------------------------------------------------------------

HISTORY_PROPS = {
    "id": {"type": "integer"},
    "status": {"type": ["null", "string"]},
    "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
}
UTC = datetime.timezone.utc


def at(minute: int) -> str:
    """An extraction time: minute `minute` of one fixed hour."""
    return f"2026-12-01T10:{minute:02d}:00+00:00"


def moment(minute: int, microseconds: int = 0) -> datetime.datetime:
    return datetime.datetime(2026, 12, 1, 10, minute, 0, microseconds, tzinfo=UTC)


def change(key: int, status: str | None, minute: int, **fields: object) -> dict:
    return record(
        "appointments", {"id": key, "status": status, **fields}, time_extracted=at(minute)
    )


def delete(key: int, minute: int) -> dict:
    return record(
        "appointments", {"id": key, "status": None, "_sdc_deleted_at": at(minute)},
        time_extracted=at(minute),
    )  # fmt: skip


def history_config(target_config: dict) -> dict:
    return {**target_config, "load_methods": {"appointments": "history"}}


def load(config: dict, *messages: dict, props: dict = HISTORY_PROPS) -> str:
    run = run_target(config, [schema("appointments", props), *messages, state({"n": 1})])
    assert run.returncode == 0, run.stderr
    return run.stderr


def versions(db, config: dict) -> list[tuple]:
    """(id, status, valid_from, valid_to) per stored version, in key and time order."""
    landed = rows(
        db, config["default_target_schema"], "appointments", order_by="id, _sdc_valid_from"
    )
    return [(r["id"], r["status"], r["_sdc_valid_from"], r["_sdc_valid_to"]) for r in landed]


def current(db, config: dict) -> list[tuple]:
    landed = rows(db, config["default_target_schema"], "appointments__current")
    return [(r["id"], r["status"]) for r in landed]


def test_versions_across_three_runs(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1), change(2, "booked", 1))
    load(config, change(1, "confirmed", 2), change(2, "booked", 2))
    summary = load(config, change(1, "sold", 3), change(3, "booked", 3))
    assert versions(db, config) == [
        (1, "booked", moment(1), moment(2)),
        (1, "confirmed", moment(2), moment(3)),
        (1, "sold", moment(3), None),
        (2, "booked", moment(1), None),
        (3, "booked", moment(3), None),
    ]
    assert current(db, config) == [(1, "sold"), (2, "booked"), (3, "booked")]
    assert "appointments: 2 created, 1 updated, 0 unchanged" in summary


def test_the_sync_history_counts_versions_and_the_quarantine_keeps_bad_records(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1))
    bad = record("appointments", {"id": "one", "status": "x"}, time_extracted=at(2))
    load(config, change(1, "sold", 2), change(2, "new", 2), bad)
    assert current(db, config) == [(1, "sold"), (2, "new")]
    (kept,) = rows(db, config["history_schema"], "rejected_records")
    assert kept["record"] == {"id": "one", "status": "x"}
    newer = rows(db, config["history_schema"], "sync_history", order_by="start_time")[-1]
    counted = ("records_created", "records_updated", "records_failed", "status")
    assert tuple(newer[c] for c in counted) == (2, 1, 1, "partial")


def test_unchanged_resends_add_nothing(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1))
    summary = load(config, change(1, "booked", 5), change(1, "booked", 6))
    assert versions(db, config) == [(1, "booked", moment(1), None)]
    assert "0 created, 0 updated, 2 unchanged" in summary


def test_in_batch_repeats_keep_every_distinct_version_in_input_order(db, target_config):
    config = history_config(target_config)
    load(
        config,
        change(1, "booked", 1),
        change(1, "booked", 1),  # the same again: nothing
        change(1, "confirmed", 1),  # same extraction time: one microsecond later
        change(1, "sold", 1),
        change(1, "confirmed", 1),  # back again: a version of its own
    )
    assert versions(db, config) == [
        (1, "booked", moment(1), moment(1, 1)),
        (1, "confirmed", moment(1, 1), moment(1, 2)),
        (1, "sold", moment(1, 2), moment(1, 3)),
        (1, "confirmed", moment(1, 3), None),
    ]


def test_a_version_never_starts_before_the_current_one(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 5))
    load(config, change(1, "confirmed", 3))  # extracted by a host whose clock is behind
    assert versions(db, config) == [
        (1, "booked", moment(5), moment(5, 1)),
        (1, "confirmed", moment(5, 1), None),
    ]


def test_the_same_records_loaded_twice_give_the_same_table(db, target_config):
    config = history_config(target_config)
    messages = [
        change(1, "booked", 1),
        change(1, "confirmed", 1),
        change(2, "booked", 1),
        delete(2, 2),
        change(1, "sold", 3),
    ]
    load(config, *messages)
    first = versions(db, config)
    summary = load(config, *messages)
    assert versions(db, config) == first
    assert "0 created, 0 updated, 5 unchanged, 0 deleted" in summary


def test_a_delete_closes_the_version_and_a_reappearance_opens_one(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1), change(2, "booked", 1))
    summary = load(config, delete(1, 2), delete(3, 2))  # 3 was never there: nothing
    assert "1 deleted" in summary
    assert current(db, config) == [(2, "booked")]
    load(config, change(1, "booked", 4))
    assert versions(db, config) == [
        (1, "booked", moment(1), moment(2)),
        (1, "booked", moment(4), None),
        (2, "booked", moment(1), None),
    ]


def test_activate_version_closes_the_rows_a_full_sync_did_not_send(db, target_config):
    config = history_config(target_config)
    full = {"type": "ACTIVATE_VERSION", "stream": "appointments"}
    load(config, {**full, "version": 1}, change(1, "a", 1) | {"version": 1},
         change(2, "b", 1) | {"version": 1}, {**full, "version": 1})  # fmt: skip
    load(config, {**full, "version": 2}, change(1, "a", 2) | {"version": 2},
         {**full, "version": 2})  # fmt: skip
    assert current(db, config) == [(1, "a")]
    closed = [v for v in versions(db, config) if v[0] == 2]
    assert len(closed) == 1 and closed[0][3] is not None


def test_schema_evolution_on_a_history_table(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1))
    wider = {**HISTORY_PROPS, "amount": {"type": ["null", "number"]}}
    load(config, change(1, "booked", 2), change(2, "booked", 2, amount=12.5), props=wider)
    load(config, change(1, "booked", 3, amount=99), props=wider)
    landed = rows(
        db, config["default_target_schema"], "appointments", order_by="id, _sdc_valid_from"
    )
    assert [(r["id"], r["amount"], r["_sdc_valid_to"]) for r in landed] == [
        (1, None, moment(3)),
        (1, 99, None),
        (2, 12.5, None),
    ]
    view = rows(db, config["default_target_schema"], "appointments__current")
    assert [(r["id"], r["amount"]) for r in view] == [(1, 99), (2, 12.5)]
    assert "_sdc_valid_from" not in view[0]


def test_load_methods_sets_the_method_per_stream(db, target_config):
    config = {**target_config, "load_methods": {"calls": "history"}}
    messages = lambda status, minute: [  # noqa: E731
        schema("calls", HISTORY_PROPS), schema("users", HISTORY_PROPS),
        record("calls", {"id": 1, "status": status}, time_extracted=at(minute)),
        record("users", {"id": 1, "status": status}, time_extracted=at(minute)),
    ]  # fmt: skip
    assert run_target(config, messages("new", 1)).returncode == 0
    assert run_target(config, messages("good lead", 2)).returncode == 0
    name = config["default_target_schema"]
    assert [r["status"] for r in rows(db, name, "calls", "_sdc_valid_from")] == ["new", "good lead"]
    assert [r["status"] for r in rows(db, name, "users")] == ["good lead"]


def test_switching_from_upsert_keeps_the_rows_as_first_versions(db, target_config):
    load(target_config, change(1, "booked", 1), change(2, "booked", 1), delete(2, 2))
    config = history_config(target_config)
    load(config, change(1, "confirmed", 3))
    stored = versions(db, config)
    assert [(v[0], v[1], v[3] is None) for v in stored] == [
        (1, "booked", False),
        (1, "confirmed", True),
        (2, None, False),
    ]
    assert stored[0][2:] == (moment(1), moment(3))
    assert current(db, config) == [(1, "confirmed")]


def test_switching_from_history_to_upsert_is_refused_in_one_line(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1))
    refused = run_target(target_config, [schema("appointments", HISTORY_PROPS), change(1, "x", 2)])
    assert refused.returncode == 1
    lines = [line for line in refused.stderr.splitlines() if "error" in line]
    assert len(lines) == 1, refused.stderr
    assert "keeps every version" in lines[0] and "appointments__current" in lines[0]
    assert "Traceback" not in refused.stderr
    assert current(db, config) == [(1, "booked")]


def test_a_dry_run_on_a_history_table_writes_nothing(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1))
    summary = load({**config, "dry_run": True}, change(1, "sold", 2), change(2, "new", 2))
    assert "2 would be created, 1 would be updated" in summary
    assert versions(db, config) == [(1, "booked", moment(1), None)]


def test_a_reconciliation_ends_the_versions_the_window_no_longer_holds(db, target_config):
    config = history_config(target_config)
    load(config, change(1, "booked", 1), change(2, "booked", 1))
    reconcile = {"type": "RECONCILE", "stream": "appointments"}
    summary = load(
        config,
        {**reconcile, "phase": "begin"},
        change(1, "confirmed", 2),
        {**reconcile, "phase": "end", "scope": {"id": [1, 2]}},
    )
    assert "1 rows no longer at the source closed" in summary
    assert current(db, config) == [(1, "confirmed")]
    assert [v[:2] for v in versions(db, config)] == [
        (1, "booked"),
        (1, "confirmed"),
        (2, "booked"),
    ]


def _numbered_stream(start: int, stop: int, keys: int = 40) -> list[dict]:
    """Record i is version i // keys of key i % keys, extracted at second i; a state
    after every 25 records says how far the tap got."""
    base = datetime.datetime(2026, 12, 1, tzinfo=UTC)
    messages: list[dict] = [schema("appointments", HISTORY_PROPS)]
    for i in range(start, stop):
        moment = (base + datetime.timedelta(seconds=i)).isoformat()
        messages.append(
            record("appointments", {"id": i % keys, "status": f"v{i // keys}"},
                   time_extracted=moment)
        )  # fmt: skip
        if i % 25 == 24:
            messages.append(state({"bookmarks": {"appointments": {"position": i}}}))
    messages.append(state({"bookmarks": {"appointments": {"position": stop - 1}}}))
    return messages


def test_a_killed_run_resumed_from_its_state_loses_or_doubles_no_version(db, target_config):
    config = {**history_config(target_config), "batch_size_rows": 30, "state_flush_max_rows": 60}
    total, keys = 1200, 40
    everything = _numbered_stream(0, total, keys)
    seen = run_and_kill(config, everything, 900, 1.2)
    last = seen[-1]["bookmarks"]["appointments"]["position"] if seen else -1
    resumed = run_target(config, _numbered_stream(last + 1, total, keys))
    assert resumed.returncode == 0, resumed.stderr
    stored = versions(db, config)
    expected = [(key, f"v{n}") for key in range(keys) for n in range(total // keys)]
    assert [(v[0], v[1]) for v in stored] == expected, "a version lost or doubled"
    for (key, _, _began, ended), (next_key, _, next_began, _) in itertools.pairwise(stored):
        if key == next_key:
            assert ended == next_began
    assert len(current(db, config)) == keys
