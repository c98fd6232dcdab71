"""target_warehouse.message_checks: a malformed message is refused in one line that names
what is wrong and how to fix it (pure: no Postgres)."""

from __future__ import annotations

import pytest
from target_warehouse.errors import BadInputError, RecordBeforeSchemaError
from target_warehouse.message_checks import (
    batch_refused,
    check_known_stream,
    check_record,
    check_schema,
    record_before_schema,
    require_fields,
)


def schema_message(**changes) -> dict:
    return {
        "type": "SCHEMA",
        "stream": "items",
        "schema": {"properties": {"id": {"type": "integer"}}},
        "key_properties": ["id"],
        **changes,
    }


def test_a_complete_message_passes():
    check_schema(schema_message())
    check_record({"type": "RECORD", "stream": "items", "record": {"id": 1}})
    check_known_stream({"type": "STATE", "stream": "items"}, {"items"})


@pytest.mark.parametrize(
    ("message", "problem"),
    [
        ({"type": "RECORD", "stream": "items"}, "RECORD message lacks record"),
        ({"type": "RECORD", "stream": "items", "record": [1]}, "record is not a JSON object"),
        (schema_message(schema={"type": "object"}), "SCHEMA message lacks properties"),
        (
            schema_message(schema={"properties": {"id": {"type": "int"}}}),
            "property 'id' a type JSON schema does not have",
        ),
        (schema_message(key_properties="id"), "key_properties must be a list"),
    ],
)
def test_a_malformed_message_is_named(message, problem):
    check = check_record if message["type"] == "RECORD" else check_schema
    with pytest.raises(BadInputError, match=problem) as refused:
        check(message)
    assert refused.value.fix


def test_missing_fields_are_listed():
    with pytest.raises(BadInputError, match="STATE message lacks value"):
        require_fields({"type": "STATE"}, {"value"})


def test_a_message_before_its_schema_is_refused():
    with pytest.raises(BadInputError, match="ACTIVATE_VERSION arrived before the stream's SCHEMA"):
        check_known_stream({"type": "ACTIVATE_VERSION", "stream": "calls"}, {"items"})
    assert isinstance(record_before_schema("calls"), RecordBeforeSchemaError)
    assert "without batch_config" in batch_refused({"stream": "calls"}).fix
