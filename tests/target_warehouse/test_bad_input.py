"""Bad input ends the run with one clear line, and what came before it is kept."""

import pytest

from tests.target_warehouse.singer import record, rows, run_target, schema, state

PROPS = {"id": {"type": "integer"}, "amount": {"type": ["null", "number"]}}
GOOD = [schema("s", PROPS), record("s", {"id": 1, "amount": 1}), state({"pos": 1})]


def _error_line(stderr: str) -> str:
    assert "Traceback" not in stderr
    errors = [line for line in stderr.splitlines() if line.startswith("target-warehouse: error:")]
    assert len(errors) == 1, stderr
    return errors[0]


CASES = {
    "malformed JSON": ("{not json", ["input line 4", "not valid JSON"]),
    "not a message": ("[1, 2]", ["input line 4", "not a Singer message"]),
    "unknown type": ('{"type": "PING"}', ["input line 4", "unknown message type"]),
    "record before schema": (
        record("other", {"id": 1}),
        ["stream 'other'", "input line 4", "before the stream's SCHEMA"],
    ),
    "record without record": ({"type": "RECORD", "stream": "s"}, ["input line 4", "lacks record"]),
    "missing key": (record("s", {"amount": 1}), ["stream 's'", "key property 'id'"]),
    "null key": (record("s", {"id": None}), ["key property 'id' is missing or null"]),
    "wrong type": (
        record("s", {"id": 2, "amount": "lots"}),
        ["field 'amount'", "expected a number"],
    ),
    "NaN": ('{"type":"RECORD","stream":"s","record":{"id":2,"amount":NaN}}', ["field 'amount'"]),
    "Infinity": (
        '{"type":"RECORD","stream":"s","record":{"id":2,"amount":Infinity}}',
        ["field 'amount'"],
    ),
    "schema without properties": (
        {"type": "SCHEMA", "stream": "x", "schema": {}, "key_properties": []},
        ["lacks properties"],
    ),
    "key not in schema": (
        {"type": "SCHEMA", "stream": "x", "schema": {"properties": {}}, "key_properties": ["id"]},
        ["stream 'x'", "key properties ['id'] are not in the schema"],
    ),
    "schema that is not an object": (
        {"type": "SCHEMA", "stream": "x", "schema": "text", "key_properties": []},
        ["stream 'x'", "lacks properties"],
    ),
    "key properties not a list": (
        {"type": "SCHEMA", "stream": "x", "schema": {"properties": {}}, "key_properties": "id"},
        ["stream 'x'", "key_properties must be a list"],
    ),
    "batch message": ({"type": "BATCH", "stream": "s"}, ["BATCH messages are not supported"]),
}


INVALID_RECORDS = {"missing key", "null key", "wrong type", "NaN", "Infinity"}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_input_gives_one_clear_line_and_keeps_what_came_before(db, target_config, case):
    """Invalid records stop the run only with on_invalid_record: fail (else they are
    quarantined: tests/target_warehouse/test_history.py)."""
    bad, expected = CASES[case]
    if case in INVALID_RECORDS:
        target_config["on_invalid_record"] = "fail"
    run = run_target(target_config, [*GOOD, bad, record("s", {"id": 3, "amount": 3})])
    assert run.returncode == 1
    line = _error_line(run.stderr)
    for fragment in expected:
        assert fragment in line
    assert "Fix:" in line
    landed = rows(db, target_config["default_target_schema"], "s")
    assert [r["id"] for r in landed] == [1], "rows before the bad line are committed, none after"
    assert run.states == [{"pos": 1}], "the state of committed rows is emitted"


def test_schema_violation_in_nested_object_names_the_path(db, target_config):
    target_config["on_invalid_record"] = "fail"
    props = {
        "id": {"type": "integer"},
        "tracker": {"type": "object", "properties": {"name": {"type": "string"}}},
    }
    run = run_target(
        target_config, [schema("n", props), record("n", {"id": 1, "tracker": {"name": 5}})]
    )
    assert run.returncode == 1
    assert "field 'tracker' .name must be string" in _error_line(run.stderr)


def test_invalid_timestamp_is_refused_not_guessed(db, target_config):
    target_config["on_invalid_record"] = "fail"
    props = {"id": {"type": "integer"}, "at": {"type": "string", "format": "date-time"}}
    run = run_target(
        target_config, [schema("t", props), record("t", {"id": 1, "at": "0000-00-00 00:00"})]
    )
    assert run.returncode == 1
    assert "field 'at' expected an ISO 8601 date-time" in _error_line(run.stderr)


def test_validation_off_still_refuses_values_that_cannot_be_stored_exactly(db, target_config):
    target_config["on_invalid_record"] = "fail"
    target_config["validate_records"] = False
    run = run_target(target_config, [schema("s", PROPS), record("s", {"id": 1, "amount": "x"})])
    assert run.returncode == 1
    assert "field 'amount' expected a number" in _error_line(run.stderr)


def test_unreachable_warehouse_is_one_line_without_the_password(target_config):
    config = {**target_config, "host": "127.0.0.1", "port": 1, "password": "s3cr3t-canary"}
    run = run_target(config, GOOD)
    assert run.returncode == 1
    line = _error_line(run.stderr)
    assert "cannot connect to Postgres at 127.0.0.1:1/" in line
    assert "s3cr3t-canary" not in run.stderr + run.stdout


def test_bad_setting_is_refused_before_reading(target_config):
    run = run_target({**target_config, "load_method": "merge"}, GOOD)
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert "load_method" in run.stderr or "merge" in run.stderr


def test_password_in_the_url_never_appears_in_output(target_config):
    url = "postgresql+psycopg2://loader:url-canary-pw@127.0.0.1:1/warehouse"
    config = {
        "sqlalchemy_url": url,
        "default_target_schema": target_config["default_target_schema"],
    }
    run = run_target(config, GOOD)
    assert run.returncode == 1
    assert "cannot connect to Postgres at 127.0.0.1:1/warehouse" in _error_line(run.stderr)
    assert "url-canary-pw" not in run.stderr + run.stdout
