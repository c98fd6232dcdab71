"""JSON schema to Postgres types, and widening that never loses a value."""

from target_warehouse.column_types import column_type, widen


def test_scalar_types():
    assert column_type({"type": ["null", "integer"]}) == "bigint"
    assert column_type({"type": "number"}) == "numeric"
    assert column_type({"type": "string", "format": "date-time"}) == "timestamptz"
    assert column_type({"type": "string", "format": "date"}) == "date"
    assert column_type({"type": "string", "format": "time"}) == "time"
    assert column_type({"type": "boolean"}) == "boolean"
    assert column_type({"type": "object"}) == "jsonb"
    assert column_type({"type": "array", "items": {}}) == "jsonb"
    assert column_type({}) == "jsonb"


def test_unions_take_the_narrowest_type_holding_every_value():
    assert column_type({"type": ["integer", "number"]}) == "numeric"
    assert column_type({"type": ["integer", "string"]}) == "text"
    assert column_type({"type": ["object", "string"]}) == "jsonb"
    assert column_type(
        {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]}
    ) == ("timestamptz")


def test_widening_only_goes_up():
    assert widen("bigint", "numeric") == "numeric"
    assert widen("numeric", "bigint") == "numeric"
    assert widen("numeric", "text") == "text"
    assert widen("date", "timestamptz") == "timestamptz"
    assert widen("boolean", "bigint") == "text"
    assert widen("text", "jsonb") == "jsonb"
    assert widen("jsonb", "bigint") == "jsonb"
