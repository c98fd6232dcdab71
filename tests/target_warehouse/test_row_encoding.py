"""target_warehouse.row_encoding: a record becomes one CSV line for its table's columns,
validated on the way; no Postgres (the layout is planned as for a new table)."""

from __future__ import annotations

import decimal

import pytest
from target_warehouse.copy_encoding import EncodingStats
from target_warehouse.errors import InvalidRecordError, MissingKeyError
from target_warehouse.row_encoding import RowEncoder
from target_warehouse.table_schema import desired_layout

SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "integer"},
        "amount": {"type": ["number", "null"]},
        "name": {"type": "string"},
        "_sdc_extracted_at": {"type": ["string", "null"], "format": "date-time"},
        "_sdc_deleted_at": {"type": ["string", "null"], "format": "date-time"},
        "_sdc_table_version": {"type": ["integer", "null"]},
    },
}


def row_encoder(*, validate: bool = True, keys=("id",)) -> RowEncoder:
    layout = desired_layout("public", "items", SCHEMA["properties"], list(keys), None)
    return RowEncoder(
        "items", SCHEMA, layout, list(keys), stats=EncodingStats(), validate=validate,
        sync_started_at=1700000000,
    )  # fmt: skip


def test_a_record_becomes_its_data_fields_then_the_metadata():
    encoder = row_encoder()
    assert encoder.columns == [
        "id", "amount", "name", "_sdc_extracted_at", "_sdc_deleted_at", "_sdc_table_version",
    ]  # fmt: skip
    message = {"time_extracted": "2024-01-02T03:04:05+00:00", "version": 7}
    record = {"id": 1, "amount": decimal.Decimal("9.990"), "name": "a,b"}
    line, key = encoder.encode(record, message)
    assert line == '1,9.990,"a,b",2024-01-02T03:04:05+00:00,,7\n'
    assert key == "1"


def test_a_missing_value_is_null_and_a_missing_key_is_refused():
    encoder = row_encoder()
    line, _ = encoder.encode({"id": 2, "name": ""}, {})
    assert line == '2,,"",,,\n', "unquoted empty is NULL; quoted is the empty string"
    with pytest.raises(MissingKeyError, match="'id'"):
        encoder.encode({"name": "x"}, {})


def test_a_record_that_breaks_its_schema_names_the_field():
    with pytest.raises(InvalidRecordError, match="field 'name' must be string"):
        row_encoder().encode({"id": 1, "name": 5}, {})
    with pytest.raises(InvalidRecordError, match="field 'name' is null"):
        row_encoder().encode({"id": 1, "name": None}, {})


def test_without_validation_a_union_value_is_still_encoded_exactly():
    line, _ = row_encoder(validate=False).encode({"id": 1, "name": 5}, {})
    assert line.startswith('1,,"5",')


def test_bad_metadata_from_the_tap_is_refused():
    with pytest.raises(InvalidRecordError, match="version 'x' is not an integer"):
        row_encoder().encode({"id": 1, "name": "a"}, {"version": "x"})
    with pytest.raises(InvalidRecordError, match="time_extracted expected an ISO 8601"):
        row_encoder().encode({"id": 1, "name": "a"}, {"time_extracted": "soon"})


def test_a_compound_key_is_a_tuple():
    _, key = row_encoder(keys=("id", "name")).encode({"id": 1, "name": "a"}, {})
    assert key == ("1", '"a"')
