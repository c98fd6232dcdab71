"""target_warehouse.sinks: a sink accepts a record (encoded, or quarantined when it breaks
the schema), counts it, says when its batch is full, and loads each batch in one
transaction; against the embedded Postgres, in-process."""

from __future__ import annotations

import threading

import psycopg2
import pytest
from target_warehouse.errors import InvalidRecordError
from target_warehouse.table_schema import lock_schema_ddl
from target_warehouse.target import TargetWarehouse

from tests.target_warehouse.singer import record, rows, run_target, schema, state

SCHEMA = {
    "type": "object",
    "properties": {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}},
}


def items_sink(target_config: dict, **settings):
    target = TargetWarehouse(config={**target_config, "batch_size_rows": 3, **settings})
    return target.add_sink("items", SCHEMA, ["id"])


def test_a_sink_counts_what_it_accepts_and_says_when_the_batch_is_full(
    target_config, db, target_schema
):
    sink = items_sink(target_config)
    assert [sink.accept({"id": n, "name": f"n{n}"}, {}, n) for n in (1, 2, 3)] == [
        False,
        False,
        True,
    ]
    assert sink.received == 3 and sink.current_size == 3
    sink.process_batch({})
    sink.wait_for_load()
    assert [(r["id"], r["name"]) for r in rows(db, target_schema, "items")] == [
        (1, "n1"),
        (2, "n2"),
        (3, "n3"),
    ]
    assert sink.totals.created == 3 and sink.current_size == 0


def test_a_record_that_breaks_the_schema_is_quarantined_not_loaded(
    target_config, db, target_schema
):
    sink = items_sink(target_config)
    assert sink.accept({"id": 1, "name": 5}, {}, 7) is False
    sink.accept({"id": 2, "name": "ok"}, {}, 8)
    assert sink.received == 2 and sink.rejected_total == 1
    (stream, record_json, problem, line) = sink.rejected[0]
    assert (stream, line) == ("items", 7) and "'name' must be string" in problem
    assert '"id": 1' in record_json or '"id":1' in record_json
    sink.process_batch({})
    sink.wait_for_load()
    assert [r["id"] for r in rows(db, target_schema, "items")] == [2]
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT stream, input_line, record FROM "{target_schema}_history".rejected_records'
        )
        assert cursor.fetchall() == [("items", 7, {"id": 1, "name": 5})]


def test_on_invalid_record_fail_raises_instead(target_config, target_schema):
    sink = items_sink(target_config, on_invalid_record="fail")
    with pytest.raises(InvalidRecordError, match="'name' must be string"):
        sink.accept({"id": 1, "name": 5}, {}, 1)


def test_a_load_into_a_schema_another_load_is_creating_waits_and_fits_the_table_it_made(
    target_config, warehouse_url, db, target_schema
):
    """Two targets at once (CallRail's partitions) into a schema neither has made: the
    second waits for the first's DDL, then loads into its table. Without the wait, its own
    `CREATE SCHEMA IF NOT EXISTS` failed on pg_namespace's unique index."""
    other = psycopg2.connect(warehouse_url)
    with other.cursor() as cursor:
        lock_schema_ddl(cursor, target_schema)
        cursor.execute(f'CREATE SCHEMA "{target_schema}"')
        cursor.execute(f'CREATE TABLE "{target_schema}".items (id bigint PRIMARY KEY, name text)')
    sinks = []
    second = threading.Thread(target=lambda: sinks.append(items_sink(target_config)))
    second.start()
    second.join(timeout=1.0)
    assert second.is_alive()  # waiting for the first load's DDL
    other.commit()
    other.close()
    second.join(timeout=30)
    assert sinks, "the second load did not set up its table"
    sink = sinks[0]
    sink.accept({"id": 1, "name": "one"}, {}, 1)
    sink.process_batch({})
    sink.wait_for_load()
    assert [(r["id"], r["name"]) for r in rows(db, target_schema, "items")] == [(1, "one")]


def test_schema_table_streams_land_in_their_table_and_two_for_one_table_are_refused(
    target_config, db, target_schema
):
    """tap-mysql style stream names (`<database>-<table>`) land in `<table>`; a second
    stream that would land there too is refused in one line naming both, and the rows
    loaded before the refusal stay."""
    users = {"id": {"type": "integer"}, "name": {"type": ["string", "null"]}}
    loaded = run_target(
        {**target_config, "state_flush_max_rows": 1},
        [
            schema("crm-users", users, ["id"]),
            record("crm-users", {"id": 1, "name": "Ada"}),
            state({"bookmarks": {"crm-users": {}}}),
            schema("erp-users", users, ["id"]),
            record("erp-users", {"id": 2, "name": "Bob"}),
        ],
    )
    assert loaded.returncode == 1
    assert [row["name"] for row in rows(db, target_schema, "users")] == ["Ada"]
    (line,) = [line for line in loaded.stderr.splitlines() if "error:" in line]
    assert "streams 'crm-users' and 'erp-users' would both load into" in line
    assert f"{target_schema}.users" in line and "__alias__" in line
    assert loaded.states == [{"bookmarks": {"crm-users": {}}}]
