"""tap_legacy_erp.inference: a schema learned from a sample page (pure)."""

from __future__ import annotations

import decimal

from tap_legacy_erp.inference import sampled_properties


def test_values_decide_each_fields_type():
    records = [
        {"__KEY": "1", "n": 1, "x": 1, "d": "01!02!2024", "t": "2024-02-01T10:00:00Z",
         "c": {"__ENTITIES": []}, "o": {"a": 1, "b": 2}, "flag": True, "gone": None},
        {"__KEY": "2", "n": 2, "x": decimal.Decimal("1.5"), "d": None, "t": None,
         "c": [1], "o": None, "flag": None, "gone": None, "late": "text"},
    ]  # fmt: skip
    assert sampled_properties(records, ["__KEY"]) == {
        "__KEY": {"type": ["string"]},
        "n": {"type": ["integer", "null"]},
        "x": {"type": ["number", "null"]},
        "d": {"type": ["string", "null"], "format": "date"},
        "t": {"type": ["string", "null"], "format": "date-time"},
        "c": {"type": ["array", "null"], "items": {}},
        "o": {"type": ["object", "null"]},
        "flag": {"type": ["boolean", "null"]},
        "gone": {},
        "late": {"type": ["string", "null"]},
    }


def test_mixed_kinds_fall_back_to_text():
    assert sampled_properties([{"v": 1}, {"v": "a"}], []) == {"v": {"type": ["string", "null"]}}
