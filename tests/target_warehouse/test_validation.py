"""target_warehouse.validation: every validation decision, without Postgres."""

from __future__ import annotations

import decimal

import pytest
from target_warehouse import column_types as ct
from target_warehouse.copy_encoding import EncodingStats
from target_warehouse.errors import InvalidRecordError, InvalidValueError, MissingKeyError
from target_warehouse.validation import (
    check_keys,
    non_nullable_properties,
    nullable,
    record_check,
    unknown_types,
    validating_encoder,
)


def encoder(prop_schema: dict, column_type: str):
    return validating_encoder(prop_schema, column_type, "col", EncodingStats(), "items")


@pytest.mark.parametrize(
    ("prop_schema", "column_type", "good", "bad", "reason"),
    [
        ({"type": ["string", "null"]}, ct.TEXT, "x", 5, "must be string"),
        ({"type": "integer"}, ct.BIGINT, 5, "5", "expected an integer"),
        ({"type": "object"}, ct.JSONB, {"a": 1}, [1], "must be object"),
        ({"type": "array"}, ct.JSONB, [1], {"a": 1}, "must be array"),
        ({"type": "string", "enum": ["a", "b"]}, ct.TEXT, "a", "c", "must be one of"),
        ({"type": "string", "maxLength": 2}, ct.TEXT, "ab", "abc", "must be shorter"),
        ({"type": "integer", "minimum": 0}, ct.BIGINT, 0, -1, "must be bigger"),
        ({"type": ["string", "integer"]}, ct.TEXT, 5, True, "must be integer or string"),
    ],
)
def test_a_value_is_checked_against_its_property_schema(
    prop_schema, column_type, good, bad, reason
):
    encode = encoder(prop_schema, column_type)
    assert encode(good)
    with pytest.raises(InvalidValueError, match=reason):
        encode(bad)


def test_json_schema_numbers_integral_decimals_are_integers():
    encode = encoder({"type": ["integer", "string"]}, ct.TEXT)
    assert encode(decimal.Decimal("2.0")) == '"2.0"'
    with pytest.raises(InvalidValueError):
        encode(decimal.Decimal("2.5"))


def test_record_level_rules_are_checked_whole():
    schema = {
        "type": "object",
        "properties": {"id": {"type": "integer"}, "name": {"type": "string"}},
        "required": ["name"],
    }
    check = record_check(schema, "items")
    assert check is not None
    check({"id": 1, "name": "x"})
    with pytest.raises(InvalidRecordError, match="name"):
        check({"id": 1})
    assert record_check({"type": "object", "properties": {}}, "items") is None


def test_keys_must_be_present_and_not_null():
    check_keys({"id": 0}, ["id"], "items")
    with pytest.raises(MissingKeyError, match="key property 'id' is missing or null"):
        check_keys({"id": None}, ["id"], "items")


def test_which_properties_refuse_null():
    schema = {
        "properties": {
            "id": {"type": "integer"},
            "a": {"type": "string"},
            "b": {"type": ["string", "null"]},
            "c": {"anyOf": [{"type": "string"}, {"type": "null"}]},
            "d": {},
        }
    }
    assert non_nullable_properties(schema, ["id", "a", "b", "c", "d"], ["id"]) == ["a"]
    assert nullable({}) and not nullable({"type": "integer"})


def test_unknown_json_types_are_named():
    assert unknown_types({"a": {"type": "strng"}, "b": {"type": "string"}}) == ["a"]


@pytest.mark.parametrize(
    ("step", "good", "bad"),
    [
        (0.01, decimal.Decimal("19.99"), decimal.Decimal("19.995")),
        (0.01, decimal.Decimal("0.07"), decimal.Decimal("0.071")),  # 0.07 % 0.01 in floats ≠ 0
        (1e-08, decimal.Decimal("1.23456789"), decimal.Decimal("1.234567891")),
        (5, 15, 16),
        (0.5, 2, decimal.Decimal("2.25")),
    ],
)
def test_multiple_of_is_checked_exactly_on_decimals(step, good, bad):
    """pipelinewise's and singer-io's tap-mysql declare DECIMAL(10,2) as `multipleOf: 0.01`;
    the target reads fractions as Decimal, which the compiled validator divided by a float
    (a `Decimal / float` traceback)."""
    encode = encoder({"type": ["null", "number"], "multipleOf": step}, ct.NUMERIC)
    assert encode(good) == str(good)
    with pytest.raises(InvalidValueError, match=f"multiple of {step}"):
        encode(bad)


def test_multiple_of_inside_objects_and_record_rules_is_exact():
    nested = {
        "type": "object",
        "properties": {"price": {"type": "number", "multipleOf": 0.01}},
    }
    encode = encoder(nested, ct.JSONB)
    encode({"price": decimal.Decimal("4.10")})
    with pytest.raises(InvalidValueError, match=r"\.price must be a multiple of 0.01"):
        encode({"price": decimal.Decimal("4.105")})
    whole = {"type": "object", "properties": {"amount": nested}, "required": ["amount"]}
    record_check(whole, "items")({"amount": {"price": decimal.Decimal("1.01")}})
