"""Schema changes between and within runs: columns are added and widened, never lost."""

from decimal import Decimal

from tests.target_warehouse.singer import column_types, record, rows, run_target, schema


def test_new_property_adds_a_column_and_old_rows_keep_their_values(db, target_config):
    v1 = {"id": {"type": "integer"}, "a": {"type": ["null", "string"]}}
    v2 = {**v1, "b": {"type": ["null", "integer"]}}
    assert (
        run_target(target_config, [schema("s", v1), record("s", {"id": 1, "a": "x"})]).returncode
        == 0
    )
    run = run_target(target_config, [schema("s", v2), record("s", {"id": 2, "a": "y", "b": 5})])
    assert run.returncode == 0, run.stderr
    landed = rows(db, target_config["default_target_schema"], "s")
    assert [(r["id"], r["a"], r["b"]) for r in landed] == [(1, "x", None), (2, "y", 5)]


def test_type_change_widens_without_losing_values(db, target_config):
    schema_name = target_config["default_target_schema"]
    as_int = {"id": {"type": "integer"}, "v": {"type": ["null", "integer"]}}
    as_num = {"id": {"type": "integer"}, "v": {"type": ["null", "number"]}}
    as_text = {"id": {"type": "integer"}, "v": {"type": ["null", "string"]}}
    as_obj = {"id": {"type": "integer"}, "v": {"type": ["null", "object"]}}
    run_target(target_config, [schema("w", as_int), record("w", {"id": 1, "v": 7})])
    run_target(
        target_config,
        [schema("w", as_num), '{"type":"RECORD","stream":"w","record":{"id":2,"v":2.5}}'],
    )
    assert column_types(db, schema_name, "w")["v"] == "numeric"
    run_target(target_config, [schema("w", as_text), record("w", {"id": 3, "v": "three"})])
    assert column_types(db, schema_name, "w")["v"] == "text"
    run_target(target_config, [schema("w", as_obj), record("w", {"id": 4, "v": {"k": [1]}})])
    assert column_types(db, schema_name, "w")["v"] == "jsonb"
    landed = {r["id"]: r["v"] for r in rows(db, schema_name, "w")}
    assert landed == {1: "7", 2: "2.5", 3: "three", 4: {"k": [1]}}


def test_narrower_schema_keeps_the_wide_column(db, target_config):
    schema_name = target_config["default_target_schema"]
    as_text = {"id": {"type": "integer"}, "v": {"type": ["null", "string"]}}
    as_int = {"id": {"type": "integer"}, "v": {"type": ["null", "integer"]}}
    run_target(target_config, [schema("n", as_text), record("n", {"id": 1, "v": "abc"})])
    run = run_target(target_config, [schema("n", as_int), record("n", {"id": 2, "v": 42})])
    assert run.returncode == 0, run.stderr
    assert column_types(db, schema_name, "n")["v"] == "text"
    assert {r["id"]: r["v"] for r in rows(db, schema_name, "n")} == {1: "abc", 2: "42"}


def test_integer_too_big_for_bigint_widens_to_numeric(db, target_config):
    schema_name = target_config["default_target_schema"]
    props = {"id": {"type": "integer"}, "big": {"type": ["null", "integer"]}}
    huge = 123456789012345678901234567890
    messages = [
        schema("b", props),
        record("b", {"id": 1, "big": 5}),
        record("b", {"id": 2, "big": huge}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    assert column_types(db, schema_name, "b")["big"] == "numeric"
    assert [r["big"] for r in rows(db, schema_name, "b")] == [5, Decimal(huge)]


def test_schema_change_mid_stream_keeps_record_order(db, target_config):
    v1 = {"id": {"type": "integer"}, "a": {"type": ["null", "string"]}}
    v2 = {**v1, "c": {"type": ["null", "boolean"]}}
    messages = [
        schema("m", v1),
        record("m", {"id": 1, "a": "old"}),
        schema("m", v2),
        record("m", {"id": 1, "a": "new", "c": True}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    (row,) = rows(db, target_config["default_target_schema"], "m")
    assert (row["a"], row["c"]) == ("new", True)


def test_column_missing_from_new_schema_stays_and_becomes_nullable(db, target_config):
    schema_name = target_config["default_target_schema"]
    v1 = {"id": {"type": "integer"}, "gone": {"type": "string"}}
    v2 = {"id": {"type": "integer"}}
    run_target(target_config, [schema("g", v1), record("g", {"id": 1, "gone": "kept"})])
    run = run_target(target_config, [schema("g", v2), record("g", {"id": 2})])
    assert run.returncode == 0, run.stderr
    assert {r["id"]: r["gone"] for r in rows(db, schema_name, "g")} == {1: "kept", 2: None}


def test_long_reserved_and_odd_names(db, target_config):
    schema_name = target_config["default_target_schema"]
    long_a = "customer_" + "x" * 70 + "_a"
    long_b = "customer_" + "x" * 70 + "_b"
    props = {
        "id": {"type": "integer"},
        "select": {"type": ["null", "string"]},
        "Order Number": {"type": ["null", "string"]},
        'x"; DROP TABLE t; --': {"type": ["null", "string"]},
        long_a: {"type": ["null", "string"]},
        long_b: {"type": ["null", "string"]},
        "userId": {"type": ["null", "string"]},
        "user_id": {"type": ["null", "string"]},
    }
    stream = "Weird Stream.Name " + "y" * 70  # a hyphen would name <schema>-<table>
    data = {"id": 1, **{name: f"value of {name}" for name in props if name != "id"}}
    run = run_target(target_config, [schema(stream, props), record(stream, data)])
    assert run.returncode == 0, run.stderr
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (schema_name,),
        )
        (table,) = [r[0] for r in cursor.fetchall()]
    assert len(table.encode()) <= 63 and table.startswith("weird_stream_name_")
    columns = column_types(db, schema_name, table)
    assert {"select", "order_number", "user_id"} <= set(columns)
    assert len([c for c in columns if c.startswith("customer_")]) == 2
    (row,) = rows(db, schema_name, table)
    assert {v for v in row.values() if isinstance(v, str)} >= {
        f"value of {name}" for name in props if name != "id"
    }
