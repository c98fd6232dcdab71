"""The schema drift check on its own: what it names, and what it leaves alone."""

import decimal

from suite_common.drift import allowed_types, differences, json_type

PROPERTIES = {
    "id": {"type": "string"},
    "phone": {"type": ["null", "string"]},
    "amount": {"type": ["null", "number"]},
    "meta": {"type": ["null", "object", "string"]},
    "phone_e164": {"type": ["null", "string"]},
    "notes": {"type": ["null", "string"]},
    "anything": {},
}


def test_unknown_fields_refused_types_and_absent_fields_are_named():
    raw = [{"id": "1", "phone": 13035550199, "amount": 7, "meta": "", "colour": "red"}]
    emitted = [{"id": "1", "phone": 13035550199, "amount": 7, "meta": "", "anything": [1]}]
    problems, notes = differences("entities", PROPERTIES, raw, emitted)
    assert problems == [
        "entities: the source sends colour (string), which the schema lacks: it is not a column "
        "(REST taps keep it in _sdc_extra)",
        "entities: phone is integer in the source ('13035550199'), the schema says string: "
        "such records are refused",
    ]
    assert notes == ["entities: in the schema, in no sampled record: anything, notes"]


def test_a_sample_that_fits_has_no_problem():
    raw = [{"id": "1", "phone": "303", "amount": decimal.Decimal("1.5"), "meta": {}}]
    problems, _ = differences("x", PROPERTIES, raw, raw)
    assert problems == []


def test_types():
    assert [json_type(v) for v in (None, True, 1, 1.5, "a", {}, [])] == [
        "null", "boolean", "integer", "number", "string", "object", "array",
    ]  # fmt: skip
    assert allowed_types({"type": ["null", "number"]}) == {"null", "number", "integer"}
    assert allowed_types({}) is None
    assert allowed_types({"anyOf": [{"type": "string"}, {"type": "object"}]}) == {
        "string",
        "object",
    }
