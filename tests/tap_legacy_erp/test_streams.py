"""Every ERP table against the stand-in over real HTTP: the records equal the truth, values
typed and exact, one session for the whole run."""

from __future__ import annotations

import datetime
import decimal

from sandbox.legacy_erp import parse_erp_date
from tests.support.singer_run import run_tap
from tests.tap_legacy_erp.conftest import TABLES, exact, table_reads, truth


def test_every_table_equals_the_stand_in_with_one_session(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", erp_config)
    assert run.returncode == 0, run.stderr[-2000:]
    for stream, (table, key) in TABLES.items():
        emitted = [r[key] for r in run.records(stream)]
        assert len(emitted) == len(set(emitted)), stream
        assert sorted(map(str, emitted)) == sorted(str(r[key]) for r in truth(erp_server, table))
    lines = [(r["AbsNr"], r["PosNr"]) for r in run.records("belege_pos")]
    assert len(lines) == len(set(lines))
    assert set(lines) == {(r["AbsNr"], r["PosNr"]) for r in truth(erp_server, "Belege_Pos")}
    assert len(erp_server.sessions) == 1, "one session for every table"
    assert "Opened a 4D session (1 in this run)" in run.stderr


def test_dates_become_iso_and_zero_dates_null(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", erp_config)
    families = {r["__KEY"]: r for r in run.records("artikel_familie")}
    two_digit_years = 0
    for source in truth(erp_server, "Artikel_Familie"):
        emitted = families[source["__KEY"]]
        day = parse_erp_date(source["Release_date"])
        assert emitted["Release_date"] == (day.isoformat() if day else None)
        assert emitted["modified_date"] == parse_erp_date(source["modified_date"]).isoformat()
        two_digit_years += len(source["Release_date"].split("!")[2]) == 2
    assert two_digit_years, "the sample must hold two-digit years for this test to mean anything"
    documents = {r["AbsNr"]: r for r in run.records("belege")}
    unpaid = [s for s in truth(erp_server, "Belege") if s["ZahlungsDat"] == "0!0!0"]
    assert unpaid and all(documents[s["AbsNr"]]["ZahlungsDat"] is None for s in unpaid)
    stamp = run.records("belege")[0]["__TIMESTAMP"]
    assert datetime.datetime.fromisoformat(stamp).utcoffset() == datetime.timedelta(0)


def test_money_is_exact_and_non_finite_numbers_null_and_counted(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", erp_config)
    documents = {r["AbsNr"]: r for r in run.records("belege")}
    not_a_number = 0
    for source in truth(erp_server, "Belege"):
        emitted = documents[source["AbsNr"]]
        for field in ("Netto", "MWST_EUR", "Frachtkosten", "Endbetrag"):
            assert emitted[field] == exact(source[field]), (field, source[field])
            assert not isinstance(emitted[field], float)
        not_a_number += exact(source["Endbetrag"]) is None
    assert not_a_number, "the sample must hold NaN for this test to mean anything"
    assert f"belege: NaN/Infinity read as null: {not_a_number} in Endbetrag" in run.stderr
    limits = [exact(s["Kreditlimit"]) for s in truth(erp_server, "Kunden")]
    emitted_limits = {r["__KEY"]: r["Kreditlimit"] for r in run.records("kunden")}
    assert sorted(emitted_limits.values(), key=str) == sorted(limits, key=str)


def test_nested_prices_are_kept_as_a_list_of_exact_prices(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", erp_config, select=["artikel_variante"])
    variants = {r["__KEY"]: r for r in run.records("artikel_variante")}
    for source in truth(erp_server, "Artikel_Variante"):
        (prices,) = source["Preise"].values()
        emitted = variants[source["__KEY"]]["Preise"]
        assert [p["Art"] for p in emitted] == [p["Art"] for p in prices]
        assert [p["Preis"] for p in emitted] == [exact(p["Preis"]) for p in prices]
        assert all(isinstance(p["Preis"], (decimal.Decimal, int, type(None))) for p in emitted)
    schema = run.schema("artikel_variante")["schema"]["properties"]["Preise"]
    assert "array" in schema["type"] and "Preis" in schema["items"]["properties"]


def test_lines_are_asked_for_by_document_in_or_groups(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", {**erp_config, "child_chunk_size": 40})
    assert run.returncode == 0, run.stderr[-2000:]
    assert len(run.records("belege_pos")) == len(truth(erp_server, "Belege_Pos"))
    filters = [r.query["$filter"][0] for r in table_reads(erp_server, "Belege_Pos")]
    assert len(filters) == 8, "300 documents in groups of 40"
    assert all(f.count("'AbsNr = ") == 40 for f in filters[:-1])
    assert filters[0].startswith("('AbsNr = \"700000\"' or ")


def test_a_table_added_in_the_tables_setting_needs_no_code(erp_server, erp_config):
    config = {
        **erp_config,
        "tables": {
            "Versandarten": {"key": ["__KEY"]},
            "Stamm_Lagerorte": {"enabled": False},
            "Lagerbestand": {"enabled": True, "change_column": None, "stream": "stock"},
        },
    }
    run = run_tap("tap-legacy-erp", config)
    assert run.returncode == 0, run.stderr[-2000:]
    methods = {r["Code"]: r for r in run.records("versandarten")}
    assert set(methods) == {"DHL", "UPS", "DPD", "GLS", "Abholung", "Spedition"}
    assert methods["Spedition"]["Preis"] == decimal.Decimal("89.99")
    properties = run.schema("versandarten")["schema"]["properties"]
    assert properties["modified_date"]["format"] == "date"
    assert methods["DHL"]["modified_date"].count("-") == 2
    assert not run.records("stamm_lagerorte")
    assert len(run.records("stock")) == 200
    stock = run.schema("stock")["schema"]["properties"]  # read from a sample page
    assert {"ArtikelNr", "Bestand"} <= set(stock) and "ArtNr" not in stock
    assert "stock" not in run.final_state["bookmarks"] or not run.final_state["bookmarks"][
        "stock"
    ].get("replication_key_value")


def test_bad_tables_and_filters_settings_end_in_one_line(erp_config):
    for setting, words in (
        ({"tables": {"Neu": {}}}, "the new table Neu needs a key"),
        ({"tables": {"Belege": {"colour": 1}}}, "unknown fields colour"),
        ({"filters": {"aktiv": {"~": 1}}}, "filters: aktiv uses '~'"),
        ({"filters": {"a b": 1}}, "'a b' is not a field name"),
        ({"filters": {"Datum": {">": "2026-01-01"}}}, "use >= or <= instead"),
    ):
        run = run_tap("tap-legacy-erp", {**erp_config, **setting})
        assert run.returncode == 1
        (line,) = run.error_lines("tap-legacy-erp")
        assert words in line and "Fix:" in line
        assert "Traceback" not in run.stderr
