"""A reconciliation pass reads every 4D table whole, whatever the bookmarks; the positions'
table is ended whole by the documents' stream once every document's positions were read."""

from __future__ import annotations

from tests.support.singer_run import run_tap
from tests.tap_legacy_erp.conftest import truth


def reconcile_messages(run, stream):
    return [m for m in run.messages if m["type"] == "RECONCILE" and m["stream"] == stream]


def test_every_record_comes_despite_the_bookmarks(erp_server, erp_config):
    first = run_tap("tap-legacy-erp", erp_config)
    assert first.returncode == 0, first.stderr
    erp_server.mutate({"updates": 2, "creates": 0})
    run = run_tap("tap-legacy-erp", {**erp_config, "reconcile": True}, state=first.final_state)
    assert run.returncode == 0, run.stderr
    assert len(run.records("kunden")) == len(truth(erp_server, "Kunden"))
    assert len(run.records("belege")) == len(truth(erp_server, "Belege"))
    assert len(run.records("belege_pos")) == len(truth(erp_server, "Belege_Pos"))
    for stream in ("kunden", "belege", "belege_pos", "artikel_variante"):
        phases = [m["phase"] for m in reconcile_messages(run, stream)]
        assert phases[-1] == "end" and set(phases[:-1]) == {"begin"}, stream
        assert reconcile_messages(run, stream)[-1]["whole_table"] is True


def test_the_positions_end_after_every_document_and_position(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", {**erp_config, "reconcile": True, "child_chunk_size": 40})
    assert run.returncode == 0, run.stderr
    (end,) = [m for m in reconcile_messages(run, "belege_pos") if m["phase"] == "end"]
    (documents_end,) = [m for m in reconcile_messages(run, "belege") if m["phase"] == "end"]
    position = run.messages.index(end)
    assert position > run.messages.index(documents_end)
    later = [m for m in run.messages[position:] if m["type"] == "RECORD"]
    assert not [m for m in later if m["stream"] in ("belege", "belege_pos")]


def test_filters_leave_the_table_and_its_children_unreconciled(erp_server, erp_config):
    config = {**erp_config, "reconcile": True, "filters": {"Papierart": "R"}}
    run = run_tap("tap-legacy-erp", config)
    assert run.returncode == 0, run.stderr
    assert not [m for m in reconcile_messages(run, "belege") if m["phase"] == "end"]
    assert not [m for m in reconcile_messages(run, "belege_pos") if m["phase"] == "end"]
    assert "belege is read but not reconciled: filters read only part" in run.stderr
    assert "belege_pos is read but not reconciled: its parent belege is not read whole" in (
        run.stderr
    )
    assert [m for m in reconcile_messages(run, "kunden") if m["phase"] == "end"]
