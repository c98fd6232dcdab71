"""tap_legacy_erp.filters: `$filter` built from settings, quoted so a value cannot end its
condition, and checked again on the client (pure)."""

from __future__ import annotations

import datetime
import decimal

import pytest
from tap_legacy_erp.filters import (
    AnyOf,
    Condition,
    FilterSettingError,
    any_of,
    clauses_from,
    literal,
    refuse_strict_date_comparison,
)


def test_each_setting_form_becomes_its_4d_condition():
    clauses = clauses_from({"aktiv": True, "Papierart": ["R", "G"], "Netto": {">=": 100}})
    assert [c.to_4d() for c in clauses] == [
        "'aktiv = true'",
        """('Papierart = "R"' or 'Papierart = "G"')""",
        "'Netto >= 100'",
    ]


def test_a_value_cannot_end_its_condition():
    assert literal('a"b\\') == '"a\\"b\\\\"'
    assert Condition("Name", "=", "O'Brien").to_4d() == """'Name = "O\\'Brien"'"""


def test_days_are_written_as_4d_reads_them():
    assert literal(datetime.date(2024, 3, 1)) == '"2024-03-01"'
    moment = datetime.datetime(
        2024, 3, 1, 23, 30, tzinfo=datetime.timezone(-datetime.timedelta(hours=5))
    )
    assert literal(moment) == '"2024-03-02"', "the UTC day"
    assert literal(decimal.Decimal("1.50")) == "1.50"


@pytest.mark.parametrize(
    ("clause", "record", "holds"),
    [
        (Condition("aktiv", "=", True), {"aktiv": True}, True),
        (Condition("aktiv", "=", True), {"aktiv": False}, False),
        (Condition("Netto", ">=", 100), {"Netto": decimal.Decimal("100.00")}, True),
        (Condition("Netto", "<", 100), {"Netto": decimal.Decimal("100.01")}, False),
        (Condition("Datum", ">=", datetime.date(2024, 1, 1)), {"Datum": "2024-01-01"}, True),
        (Condition("Datum", ">=", datetime.date(2024, 1, 1)), {"Datum": "junk"}, False),
        (Condition("Netto", "=", 1), {}, False),
        (any_of("AbsNr", [1, 2]), {"AbsNr": 2}, True),
        (AnyOf((Condition("a", "=", "x"),)), {"a": "y"}, False),
    ],
)
def test_the_client_checks_each_record_again(clause, record, holds):
    assert clause.matches(record) is holds


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"a b": 1}, "is not a field name"),
        ({"a": []}, "lists no values"),
        ({"a": {"~": 1}}, "use one of"),
        ({"a": None}, "needs a text, number or boolean value"),
    ],
)
def test_a_setting_that_cannot_be_a_filter_is_named(setting, problem):
    with pytest.raises(FilterSettingError, match=problem):
        clauses_from(setting)


def test_a_strict_comparison_on_a_date_is_refused_before_the_server_fails_on_it():
    properties = {"Datum": {"format": "date"}, "Netto": {}}
    refuse_strict_date_comparison(Condition("Datum", ">=", "2024-01-01"), properties, "Belege")
    refuse_strict_date_comparison(Condition("Netto", ">", 1), properties, "Belege")
    with pytest.raises(FilterSettingError, match="use >= or <= instead"):
        refuse_strict_date_comparison(Condition("Datum", ">", "2024-01-01"), properties, "Belege")
