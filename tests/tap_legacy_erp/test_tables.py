"""tap_legacy_erp.tables: the tables read, from the defaults and the `tables` setting
(pure)."""

from __future__ import annotations

import pytest
from tap_legacy_erp.tables import TableSettingError, snake_case, table_specs


def test_the_defaults_read_the_old_syncs_tables_parents_first():
    specs = table_specs(None)
    names = [spec.table for spec in specs]
    assert "Lagerbestand" not in names, "off unless enabled: its fields are unknown"
    assert names[-1] == "Belege_Pos", "a child after every parent"
    belege = next(spec for spec in specs if spec.table == "Belege")
    assert (belege.key, belege.change_column, belege.stream_name) == (("AbsNr",), "Datum", "belege")


def test_a_setting_changes_only_what_it_names_and_adds_tables():
    specs = table_specs({
        "Kunden": {"change_column": None},
        "Artikel_Neu": {"key": ["__KEY"], "change_column": "modified_date"},
        "Stamm_Lagerorte": {"enabled": False},
    })  # fmt: skip
    by_table = {spec.table: spec for spec in specs}
    assert by_table["Kunden"].change_column is None
    assert by_table["Kunden"].key == ("__KEY",)
    assert by_table["Artikel_Neu"].key == ("__KEY",)
    assert "Stamm_Lagerorte" not in by_table


@pytest.mark.parametrize(
    ("setting", "problem"),
    [
        ({"bad name": {}}, "is not a 4D table name"),
        ({"Kunden": []}, "must be an object"),
        ({"Kunden": {"kee": ["x"]}}, "unknown fields kee"),
        ({"Neu": {}}, "needs a key"),
        ({"Belege": {"enabled": False}}, "read by its parent Belege"),
    ],
)
def test_a_table_the_tap_cannot_read_is_named(setting, problem):
    with pytest.raises(TableSettingError, match=problem):
        table_specs(setting)


def test_stream_names_are_snake_case():
    assert [snake_case(n) for n in ("Artikel_Variante", "BelegePos", "Lager-Ort 2")] == [
        "artikel_variante",
        "belege_pos",
        "lager_ort_2",
    ]
