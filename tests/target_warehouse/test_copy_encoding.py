"""target_warehouse.copy_encoding: each column type's encoder is exact or refuses (no
Postgres: the CSV fields are compared as text)."""

from __future__ import annotations

import decimal

import pytest
from target_warehouse import column_types as ct
from target_warehouse.copy_encoding import (
    STRING_ONLY,
    EncodingStats,
    describe,
    encoder_for,
    quote_csv,
)
from target_warehouse.errors import InvalidValueError


def encode(column_type: str, value, stats: EncodingStats | None = None) -> str:
    return encoder_for(column_type, "col", stats or EncodingStats())(value)


@pytest.mark.parametrize(
    ("column_type", "value", "field"),
    [
        (ct.BIGINT, 42, "42"),
        (ct.BIGINT, decimal.Decimal("7.0"), "7"),
        (ct.NUMERIC, decimal.Decimal("0.1000000000000000055511151231257827"),
         "0.1000000000000000055511151231257827"),
        (ct.NUMERIC, 12, "12"),
        (ct.BOOLEAN, True, "t"),
        (ct.BOOLEAN, False, "f"),
        (ct.TIMESTAMPTZ, "2024-03-01T10:00:00-05:00", "2024-03-01T10:00:00-05:00"),
        (ct.TIMESTAMPTZ, "2024-03-01T10:00:00", "2024-03-01T10:00:00+00:00"),
        (ct.DATE, "2024-03-01", "2024-03-01"),
        (ct.TIME, "07:30:00", "07:30:00"),
        (ct.TIME, "7:30:00", "07:30:00"),  # MySQL TIME as tap-mysql writes it
        (ct.TEXT, 'say "hi"', '"say ""hi"""'),
        (ct.TEXT, "", '""'),
        (ct.TEXT, 5, '"5"'),
        (ct.TEXT, True, '"true"'),
        (ct.JSONB, {"a": [1, decimal.Decimal("2.50")]}, '"{""a"":[1,2.50]}"'),
    ],
)  # fmt: skip
def test_values_are_encoded_exactly(column_type, value, field):
    assert encode(column_type, value) == field


@pytest.mark.parametrize(
    ("column_type", "value", "reason"),
    [
        (ct.BIGINT, decimal.Decimal("1.5"), "expected an integer, got Decimal"),
        (ct.BIGINT, "12", "expected an integer, got str '12'"),
        (ct.NUMERIC, decimal.Decimal("NaN"), "cannot be stored exactly"),
        (ct.NUMERIC, float("inf"), "cannot be stored exactly"),
        (ct.BOOLEAN, "true", "expected true or false"),
        (ct.TIMESTAMPTZ, "yesterday", "expected an ISO 8601 date-time"),
        (ct.DATE, "03/01/2024", "expected an ISO 8601 date"),
        (ct.TIME, "25:00:00", "expected an ISO 8601 time"),  # a TIME past a day
        (ct.TIME, "-1:00:00", "expected an ISO 8601 time"),
        (ct.JSONB, float("nan"), "is not valid JSON"),
        (STRING_ONLY, 5, "must be string, got int 5"),
    ],
)
def test_a_value_the_column_cannot_hold_exactly_is_refused(column_type, value, reason):
    with pytest.raises(InvalidValueError, match=reason):
        encode(column_type, value)


def test_an_integer_beyond_bigint_asks_for_a_wider_column():
    stats = EncodingStats()
    assert encode(ct.BIGINT, 2**63, stats) == str(2**63)
    assert stats.columns_to_widen == {"col": ct.NUMERIC}


def test_nul_characters_are_removed_and_counted():
    stats = EncodingStats()
    assert encode(ct.TEXT, "a\x00b\x00", stats) == '"ab"'
    assert encode(ct.JSONB, {"k": "x\x00"}, stats) == '"{""k"":""x""}"'
    assert stats.nul_characters_removed == 3


def test_quoting_and_descriptions():
    assert quote_csv('a"b') == '"a""b"'
    assert describe("x" * 100) == "str '" + "x" * 56 + "...", "never the whole value"
    assert describe(3) == "int 3"
