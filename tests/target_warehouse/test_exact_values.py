"""Values land exactly: decimals, zones, nesting, text with every odd character."""

import datetime
from decimal import Decimal

from tests.target_warehouse.singer import record, rows, run_target, schema

PROPS = {
    "id": {"type": "string"},
    "at": {"type": ["null", "string"], "format": "date-time"},
    "day": {"type": ["null", "string"], "format": "date"},
    "clock": {"type": ["null", "string"], "format": "time"},
    "price": {"type": ["null", "number"]},
    "flag": {"type": ["null", "boolean"]},
    "nested": {"type": ["null", "object"], "properties": {"tags": {"type": "array"}}},
    "note": {"type": ["null", "string"]},
    "mixed": {"type": ["null", "integer", "string"]},
}


def test_values_round_trip_exactly(db, target_config):
    text = 'quote " comma , tab \t newline \n backslash \\ emoji 🚚 umlaut ä'
    messages = [
        schema("v", PROPS),
        '{"type":"RECORD","stream":"v","record":{"id":"1","at":"2024-03-10T02:30:00-05:00",'
        '"day":"2024-02-29","clock":"23:59:59","price":19.999999999999999999,"flag":false,'
        '"nested":{"tags":["a",{"b":1.10}],"deep":{"x":null}},"note":"","mixed":5}}',
        record("v", {"id": "2", "at": "2024-01-01T00:00:00", "note": text, "mixed": "five"}),
        record("v", {"id": "3", "note": None, "at": None}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    one, two, three = rows(db, target_config["default_target_schema"], "v")
    assert one["at"] == datetime.datetime(2024, 3, 10, 7, 30, tzinfo=datetime.timezone.utc)
    assert one["day"] == datetime.date(2024, 2, 29)
    assert one["clock"] == datetime.time(23, 59, 59)
    assert one["price"] == Decimal("19.999999999999999999")
    assert one["flag"] is False
    assert one["nested"] == {"tags": ["a", {"b": 1.10}], "deep": {"x": None}}
    assert one["note"] == "" and three["note"] is None
    assert (one["mixed"], two["mixed"]) == ("5", "five")
    assert two["at"] == datetime.datetime(2024, 1, 1, tzinfo=datetime.timezone.utc)
    assert two["note"] == text


def test_nested_decimals_keep_every_digit(db, target_config):
    messages = [
        schema("j", {"id": {"type": "string"}, "doc": {"type": "object"}}),
        '{"type":"RECORD","stream":"j","record":{"id":"1","doc":{"amount":0.30000000000000000001}}}',
    ]
    assert run_target(target_config, messages).returncode == 0
    with db.cursor() as cursor:
        cursor.execute(f"SELECT doc->>'amount' FROM \"{target_config['default_target_schema']}\".j")
        assert cursor.fetchone()[0] == "0.30000000000000000001"


def test_nul_characters_are_removed_and_counted(db, target_config):
    messages = [
        schema("z", {"id": {"type": "string"}, "t": {"type": "string"}, "o": {"type": "object"}}),
        record("z", {"id": "1", "t": "a\u0000b\u0000", "o": {"k": "x\u0000y"}}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    (row,) = rows(db, target_config["default_target_schema"], "z")
    assert row["t"] == "ab" and row["o"] == {"k": "xy"}
    assert "3 NUL characters removed" in run.stderr
