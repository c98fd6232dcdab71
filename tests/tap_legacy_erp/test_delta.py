"""Incremental reads: bookmarks by day, start_date, filters (checked again on the client),
paging edges, the server's unreliable filtered paging, and resuming from state."""

from __future__ import annotations

import datetime

import pytest
import requests

from sandbox.legacy_erp import parse_erp_date
from tests.support.singer_run import run_tap
from tests.tap_legacy_erp.conftest import table_reads, truth


def changed(server, table, field="modified_date"):
    return {r["__KEY"]: parse_erp_date(r[field]) for r in truth(server, table)}


def test_a_second_run_reads_from_the_bookmark_day_and_after_a_change_only_that(
    erp_server, erp_config
):
    first = run_tap("tap-legacy-erp", erp_config)
    state = first.final_state
    bookmark = state["bookmarks"]["artikel_variante"]["replication_key_value"]
    assert bookmark == max(changed(erp_server, "Artikel_Variante").values()).isoformat()
    requests.post(f"{erp_server.url}/_sandbox/mutate", json={"updates": 4, "creates": 2})
    second = run_tap("tap-legacy-erp", erp_config, state=state)
    assert second.returncode == 0, second.stderr[-2000:]
    days = changed(erp_server, "Artikel_Variante")
    expected = {key for key, day in days.items() if day.isoformat() >= bookmark}
    emitted = {r["__KEY"] for r in second.records("artikel_variante")}
    assert emitted == expected
    assert len(emitted) >= 6, "the 4 changed and 2 new variants at least"
    documents = {r["AbsNr"] for r in second.records("belege")}
    lines = {r["AbsNr"] for r in second.records("belege_pos")}
    assert lines == documents, "lines only of the documents this run emitted"
    filters = [r.query.get("$filter", [""])[0] for r in erp_server.requests]
    assert any(f"'modified_date >= \"{bookmark}\"'" == f for f in filters)


def test_start_date_bounds_the_first_run(erp_server, erp_config):
    start = erp_server.today - datetime.timedelta(days=100)
    run = run_tap("tap-legacy-erp", {**erp_config, "start_date": start.isoformat()})
    expected = {
        k for k, day in changed(erp_server, "Kunden", "last_modified").items() if day >= start
    }
    assert {r["__KEY"] for r in run.records("kunden")} == expected
    assert 0 < len(expected) < 150


@pytest.mark.parametrize("page_size", [1, 7, 40, 1000])
def test_paging_edges_neither_skip_nor_repeat(erp_server, erp_config, page_size):
    run = run_tap(
        "tap-legacy-erp", {**erp_config, "page_size": page_size}, select=["artikel_familie"]
    )
    keys = [r["__KEY"] for r in run.records("artikel_familie")]
    assert sorted(keys) == sorted(r["__KEY"] for r in truth(erp_server, "Artikel_Familie"))
    assert len(keys) == len(set(keys))
    pages = table_reads(erp_server, "Artikel_Familie")
    assert len(pages) == -(-40 // page_size), "__COUNT ends the table, with no extra request"


def test_filters_go_to_the_server_and_are_checked_again_on_the_client(erp_server, erp_config):
    start = erp_server.today - datetime.timedelta(days=300)
    config = {
        **erp_config,
        "filters": {"aktiv": True, "Papierart": ["R", "G"]},
        "start_date": start.isoformat(),
        "page_size": 5,
    }
    run = run_tap("tap-legacy-erp", config)
    assert run.returncode == 0, run.stderr[-2000:]
    families = run.records("artikel_familie")
    expected = {
        r["__KEY"]
        for r in truth(erp_server, "Artikel_Familie")
        if r["aktiv"] and parse_erp_date(r["modified_date"]) >= start
    }
    assert {r["__KEY"] for r in families} == expected
    documents = run.records("belege")
    assert documents and {r["Papierart"] for r in documents} <= {"R", "G"}
    expected_documents = {
        r["AbsNr"]
        for r in truth(erp_server, "Belege")
        if r["Papierart"] in ("R", "G") and parse_erp_date(r["Datum"]) >= start
    }
    assert {r["AbsNr"] for r in documents} == expected_documents
    assert len(documents) == len(expected_documents), "no stray record, no repeat"
    sent = [r.query["$filter"][0] for r in table_reads(erp_server, "Belege")]
    assert sent[0].startswith("('Papierart = \"R\"' or 'Papierart = \"G\"') and 'Datum >= ")
    assert all("aktiv" not in f for f in sent), "a field Belege lacks is not asked of Belege"


def test_stray_records_of_unreliable_filtered_paging_are_dropped(erp_server, erp_config):
    assert erp_server.unreliable_filter_paging
    run = run_tap(
        "tap-legacy-erp",
        {**erp_config, "filters": {"aktiv": True}, "page_size": 3},
        select=["artikel_familie"],
    )
    keys = [r["__KEY"] for r in run.records("artikel_familie")]
    assert all(r["aktiv"] for r in run.records("artikel_familie"))
    assert len(keys) == len(set(keys))
    active = [r for r in truth(erp_server, "Artikel_Familie") if r["aktiv"]]
    assert len(keys) == len(active)


def test_resuming_from_state_after_a_failed_run_loses_nothing(erp_server, erp_config):
    first = run_tap("tap-legacy-erp", erp_config, select=["kunden"])
    state = first.final_state
    requests.post(f"{erp_server.url}/_sandbox/mutate", json={"updates": 5, "creates": 1})
    requests.post(
        f"{erp_server.url}/_sandbox/faults",
        json={"faults": [{"kind": "500", "path": "/rest/Kunden", "times": 50}]},
    )
    failed = run_tap("tap-legacy-erp", erp_config, state=state, select=["kunden"])
    assert failed.returncode == 1
    assert not [
        s for s in failed.states if s["bookmarks"].get("kunden") != state["bookmarks"]["kunden"]
    ]
    requests.post(f"{erp_server.url}/_sandbox/faults", json={"faults": []})
    resumed = run_tap("tap-legacy-erp", erp_config, state=state, select=["kunden"])
    bookmark = state["bookmarks"]["kunden"]["replication_key_value"]
    days = changed(erp_server, "Kunden", "last_modified")
    assert {r["__KEY"] for r in resumed.records("kunden")} == {
        k for k, day in days.items() if day.isoformat() >= bookmark
    }
