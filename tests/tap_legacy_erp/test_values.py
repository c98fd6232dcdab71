"""Values and filters on their own: dates, exact numbers, bodies with NaN, the quoting of
filter values (read back by the stand-in's 4D filter parser), and schema inference."""

from __future__ import annotations

import datetime
import decimal

import pytest
from tap_legacy_erp.filters import FilterSettingError, clauses_from, literal
from tap_legacy_erp.inference import sampled_properties
from tap_legacy_erp.values import NON_FINITE, decode_body, erp_date, exact_number

from sandbox.legacy_erp import parse_filter


@pytest.mark.parametrize(
    ("text", "iso"),
    [
        ("24!12!2021", "2021-12-24"),
        ("1!2!2024", "2024-02-01"),
        ("24!12!21", "2021-12-24"),
        ("24!12!49", "2049-12-24"),
        ("24!12!50", "2050-12-24"),  # the old client: > 50 → 19xx, ≤ 50 → 20xx
        ("24!12!51", "1951-12-24"),
        ("0!0!0", None),
        ("0!5!2020", None),
        ("", None),
        ("2024-01-31", "2024-01-31"),  # other forms the old client read date fields in
        ("2024-01-31 10:20:30", "2024-01-31"),
        ("31.01.2024", "2024-01-31"),
        ("20240131", "2024-01-31"),
        ("0000-00-00", None),
    ],
)
def test_erp_dates(text, iso):
    """Source: louisepaul75/py-erp, pyerp/utils/date_utils.py `parse_date_string` and
    pyerp/external_api/legacy_erp/base.py `_parse_legacy_date`."""
    assert erp_date(text) == iso


@pytest.mark.parametrize("text", ["31!02!2024", "2024-02-30", "x!y!z", "1!13!2024", "soon"])
def test_what_is_no_erp_date_is_an_error_not_a_guess(text):
    with pytest.raises(ValueError):
        erp_date(text)


def test_numbers_stay_exact():
    assert exact_number(decimal.Decimal("0.10")) == decimal.Decimal("0.10")
    assert exact_number("1234,5678") == decimal.Decimal("1234.5678")
    assert exact_number(7) == 7
    assert str(exact_number("99999999999999999999.99")) == "99999999999999999999.99"
    for bad in ("n/a", "1.234,56", "NaN", True):
        with pytest.raises((ValueError, ArithmeticError)):
            exact_number(bad)


def test_bodies_with_non_finite_tokens_keep_exact_decimals():
    body = decode_body(b'{"a": NaN, "b": [Infinity, -Infinity, 0.1], "c": "NaN"}')
    assert body["a"] is NON_FINITE and body["b"][:2] == [NON_FINITE, NON_FINITE]
    assert body["b"][2] == decimal.Decimal("0.1") and body["c"] == "NaN"
    with pytest.raises(ValueError):
        decode_body(b'{"a": NaN, "b": }')


@pytest.mark.parametrize(
    "value",
    ['O"Brien', "it's", "back\\slash", "' or 'x = 1", '") or (\'a = "1', "Grüße, €"],
)
def test_text_values_are_quoted_so_the_server_reads_them_back_exactly(value):
    (clause,) = clauses_from({"Firma": value})
    matches = parse_filter(clause.to_4d())
    assert matches({"Firma": value})
    assert not matches({"Firma": value + "x"})
    assert clause.matches({"Firma": value}) and not clause.matches({"Firma": "other"})


def test_settings_become_4d_syntax():
    clauses = clauses_from({"aktiv": True, "Papierart": ["R", "G"], "Netto": {">=": 100}})
    assert " and ".join(c.to_4d() for c in clauses) == (
        "'aktiv = true' and ('Papierart = \"R\"' or 'Papierart = \"G\"') and 'Netto >= 100'"
    )
    # Days, the form the old client confirmed against the live server (py-erp
    # tests/test_legacy_erp_filters.py); a moment becomes its UTC day.
    late = datetime.timezone(datetime.timedelta(hours=-8))
    assert literal(datetime.datetime(2025, 4, 10, 20, tzinfo=late)) == '"2025-04-11"'
    assert literal(datetime.date(2025, 4, 10)) == '"2025-04-10"'
    with pytest.raises(FilterSettingError, match="needs a text, number or boolean"):
        clauses_from({"aktiv": None})


def test_client_side_checks_compare_exact_numbers_and_days():
    (netto,) = clauses_from({"Netto": {">=": "100.10"}})
    assert netto.matches({"Netto": decimal.Decimal("100.10")})
    assert not netto.matches({"Netto": decimal.Decimal("100.09")})
    assert not netto.matches({"Netto": None})


def test_inferred_schema_from_a_sample():
    properties = sampled_properties(
        [
            {"__KEY": "1", "n": 1, "p": decimal.Decimal("1.5"), "d": "1!2!2024", "x": None},
            {"__KEY": "2", "n": 2, "p": 3, "d": "0!0!0", "c": {"Coll": [{"a": 1}]}},
        ],
        key=["__KEY"],
    )
    assert properties["__KEY"] == {"type": ["string"]}
    assert properties["n"]["type"] == ["integer", "null"]
    assert properties["p"]["type"] == ["number", "null"]
    assert properties["d"] == {"type": ["string", "null"], "format": "date"}
    assert properties["c"]["type"] == ["array", "null"]
    assert properties["x"] == {}
