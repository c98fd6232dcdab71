"""What lands in the tables when batches load (loading): upserts and duplicates, versions
retired by ACTIVATE_VERSION, hard deletes, exact values. The other load methods are
test_load_methods'."""

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


def test_stream_without_key_is_appended(db, target_config):
    messages = [schema("log", PROPS, keys=[])] + [
        record("log", {"id": 1, "name": "same"}) for _ in range(3)
    ]
    assert run_target(target_config, messages).returncode == 0
    assert len(rows(db, target_config["default_target_schema"], "log")) == 3


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


def _sdk_full_sync(version: int, ids: list[int]) -> list:
    """A singer-sdk tap's full-table sync: one ACTIVATE_VERSION, before the records."""
    return [
        schema("items", PROPS),
        activate_version("items", version),
        *[record("items", {"id": i, "name": f"v{version}"}, version=version) for i in ids],
        state({"version": version}),
    ]


def _retired(db, target_config) -> dict[int, bool]:
    landed = rows(db, target_config["default_target_schema"], "items")
    return {r["id"]: r["_sdc_deleted_at"] is not None for r in landed}


def test_a_version_announced_only_before_its_records_retires_older_rows(db, target_config):
    assert run_target(target_config, _sdk_full_sync(1, [1, 2, 3])).returncode == 0
    run = run_target(target_config, _sdk_full_sync(2, [2, 3]))
    assert run.returncode == 0, run.stderr
    assert _retired(db, target_config) == {1: True, 2: False, 3: False}
    assert "Version 2 active: 1 older rows marked deleted" in run.stderr


def test_a_newer_version_with_no_records_retires_every_older_row(db, target_config):
    """The source table became empty: its full sync is an ACTIVATE_VERSION alone."""
    assert run_target(target_config, _sdk_full_sync(1, [1, 2])).returncode == 0
    assert run_target(target_config, _sdk_full_sync(2, [])).returncode == 0
    assert _retired(db, target_config) == {1: True, 2: True}


def test_a_run_that_fails_before_its_input_ends_retires_nothing(db, target_config):
    assert run_target(target_config, _sdk_full_sync(1, [1, 2])).returncode == 0
    broken = [*_sdk_full_sync(2, [2])[:-1], "{not json"]
    assert run_target(target_config, broken).returncode == 1
    assert _retired(db, target_config) == {1: False, 2: False}


def test_activate_version_before_its_schema_is_applied_once_the_schema_comes(db, target_config):
    """tap-mysql style: ACTIVATE_VERSION, then SCHEMA, records, ACTIVATE_VERSION again."""
    assert run_target(target_config, _full_sync(1, [1, 2, 3])).returncode == 0
    early = [activate_version("items", 2), *_full_sync(2, [3])[:1], *_full_sync(2, [3])[2:]]
    run = run_target(target_config, early)
    assert run.returncode == 0, run.stderr
    assert _retired(db, target_config) == {1: True, 2: True, 3: False}
    alone = [activate_version("items", 3), schema("items", PROPS), state({"v": 3})]
    assert run_target(target_config, alone).returncode == 0
    assert _retired(db, target_config) == {1: True, 2: True, 3: True}


def test_activate_version_for_a_stream_that_never_gets_a_schema_is_ignored(db, target_config):
    messages = [
        activate_version("ghost", 7),
        schema("items", PROPS),
        record("items", {"id": 1, "name": "x"}),
        state({"n": 1}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    assert run.states == [{"n": 1}]
    assert "ACTIVATE_VERSION 7 for stream 'ghost' is ignored" in run.stderr
    assert "Traceback" not in run.stderr


def test_hard_delete_removes_deleted_records_on_a_first_load(db, target_config):
    """The first load COPYs straight into the empty table: deleted records must not land."""
    target_config["hard_delete"] = True
    gone = "2026-12-01T00:00:00+00:00"
    messages = [
        schema("items", {**PROPS, "_sdc_deleted_at": {"type": ["null", "string"]}}),
        record("items", {"id": 1, "name": "live"}),
        record("items", {"id": 2, "name": "gone", "_sdc_deleted_at": gone}),
        record("items", {"id": 3, "name": "deleted, then back", "_sdc_deleted_at": gone}),
        record("items", {"id": 3, "name": "back"}),
        record("items", {"id": 4, "name": "live, then deleted"}),
        record("items", {"id": 4, "name": "x", "_sdc_deleted_at": gone}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    landed = rows(db, target_config["default_target_schema"], "items")
    assert [(r["id"], r["name"]) for r in landed] == [(1, "live"), (3, "back")]


def test_hard_delete_removes_deleted_records_in_every_batch(db, target_config):
    """Batches of two: a first batch COPYed straight in, the later ones merged."""
    target_config |= {"hard_delete": True, "batch_size_rows": 2}
    gone = "2026-12-01T00:00:00+00:00"
    props = {**PROPS, "_sdc_deleted_at": {"type": ["null", "string"]}}
    messages = [schema("items", props)]
    messages += [record("items", {"id": i, "name": "x"}) for i in range(1, 5)]
    messages += [record("items", {"id": i, "_sdc_deleted_at": gone}) for i in (2, 5)]
    assert run_target(target_config, messages).returncode == 0
    landed = rows(db, target_config["default_target_schema"], "items")
    assert [r["id"] for r in landed] == [1, 3, 4]
