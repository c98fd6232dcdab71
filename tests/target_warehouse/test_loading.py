"""What lands in the tables for each load method, duplicates and ACTIVATE_VERSION."""

from decimal import Decimal

from tests.target_warehouse.singer import (
    activate_version,
    record,
    rows,
    run_target,
    schema,
    state,
)

PROPS = {"id": {"type": "integer"}, "name": {"type": ["null", "string"]}}


def test_upsert_keeps_the_last_duplicate_in_a_batch_and_updates_later(db, target_config):
    first = run_target(
        target_config,
        [
            schema("people", PROPS),
            record("people", {"id": 1, "name": "first"}),
            record("people", {"id": 2, "name": "two"}),
            record("people", {"id": 1, "name": "last"}),
            state({"n": 1}),
        ],
    )
    assert first.returncode == 0, first.stderr
    landed = rows(db, target_config["default_target_schema"], "people")
    assert [(r["id"], r["name"]) for r in landed] == [(1, "last"), (2, "two")]
    assert "2 created, 0 updated" in first.stderr

    second = run_target(
        target_config,
        [
            schema("people", PROPS),
            record("people", {"id": 2, "name": "changed"}),
            record("people", {"id": 3, "name": "new"}),
            record("people", {"id": 1, "name": "last"}),
        ],
    )
    assert second.returncode == 0, second.stderr
    landed = rows(db, target_config["default_target_schema"], "people")
    assert [(r["id"], r["name"]) for r in landed] == [(1, "last"), (2, "changed"), (3, "new")]
    assert "1 created, 1 updated, 1 unchanged" in second.stderr


def test_duplicates_across_batches_upsert_to_one_row(db, target_config):
    target_config["batch_size_rows"] = 3
    messages = [schema("people", PROPS)]
    messages += [record("people", {"id": i % 4, "name": f"v{i}"}) for i in range(20)]
    assert run_target(target_config, messages).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "people")
    assert [(r["id"], r["name"]) for r in landed] == [
        (0, "v16"),
        (1, "v17"),
        (2, "v18"),
        (3, "v19"),
    ]


def test_append_only_keeps_every_record(db, target_config):
    target_config["load_method"] = "append-only"
    messages = [schema("events", PROPS)] + [
        record("events", {"id": 1, "name": name}) for name in ("a", "b", "c")
    ]
    assert run_target(target_config, messages).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "events", order_by="name")
    assert [r["name"] for r in landed] == ["a", "b", "c"]


def test_stream_without_key_is_appended(db, target_config):
    messages = [schema("log", PROPS, keys=[])] + [
        record("log", {"id": 1, "name": "same"}) for _ in range(3)
    ]
    assert run_target(target_config, messages).returncode == 0
    assert len(rows(db, target_config["default_target_schema"], "log")) == 3


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


def _full_sync(version: int, ids: list[int]) -> list:
    return [
        schema("items", PROPS),
        activate_version("items", version),
        *[record("items", {"id": i, "name": f"v{version}"}, version=version) for i in ids],
        activate_version("items", version),
    ]


def test_activate_version_soft_deletes_rows_missing_from_the_new_version(db, target_config):
    assert run_target(target_config, _full_sync(1, [1, 2, 3])).returncode == 0
    assert run_target(target_config, _full_sync(2, [2, 3, 4])).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "items")
    deleted = {r["id"] for r in landed if r["_sdc_deleted_at"] is not None}
    assert [r["id"] for r in landed] == [1, 2, 3, 4]
    assert deleted == {1}


def test_activate_version_with_hard_delete_removes_rows(db, target_config):
    target_config["hard_delete"] = True
    assert run_target(target_config, _full_sync(1, [1, 2, 3])).returncode == 0
    assert run_target(target_config, _full_sync(2, [3])).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "items")
    assert [(r["id"], r["name"]) for r in landed] == [(3, "v2")]


def test_activate_version_without_metadata_columns_still_retires_old_rows(db, target_config):
    target_config["add_record_metadata"] = False
    assert run_target(target_config, _full_sync(1, [1, 2])).returncode == 0
    assert run_target(target_config, _full_sync(2, [2])).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "items")
    assert {r["id"]: r["_sdc_deleted_at"] is not None for r in landed} == {1: True, 2: False}
    assert "_sdc_extracted_at" not in landed[0]


def test_empty_full_sync_retires_everything(db, target_config):
    assert run_target(target_config, _full_sync(1, [1, 2])).returncode == 0
    assert run_target(target_config, _full_sync(2, [])).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "items")
    assert all(r["_sdc_deleted_at"] is not None for r in landed)


def test_record_metadata_columns_are_filled(db, target_config):
    messages = [
        schema("people", PROPS),
        record("people", {"id": 1, "name": "x"}, time_extracted="2024-05-01T12:00:00Z"),
    ]
    assert run_target(target_config, messages).returncode == 0
    (row,) = rows(db, target_config["default_target_schema"], "people")
    assert row["_sdc_extracted_at"].isoformat() == "2024-05-01T12:00:00+00:00"
    assert row["_sdc_received_at"] is not None
    assert row["_sdc_deleted_at"] is None
    assert isinstance(row["_sdc_sequence"], int)


def test_decimal_key_and_values_are_exact(db, target_config):
    props = {"id": {"type": "string"}, "amount": {"type": "number"}}
    messages = [
        schema("money", props),
        '{"type":"RECORD","stream":"money","record":{"id":"a","amount":0.1}}',
        '{"type":"RECORD","stream":"money","record":{"id":"b","amount":'
        "12345678901234567890.123456789012345678}}",
    ]
    assert run_target(target_config, messages).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "money")
    assert [r["amount"] for r in landed] == [
        Decimal("0.1"),
        Decimal("12345678901234567890.123456789012345678"),
    ]
