"""The old sync's mapping layer as Singer stream maps: the example shipped in meltano.yml,
run by the tap against the stand-in."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

from tests.support.singer_run import run_tap
from tests.tap_legacy_erp.conftest import truth

MELTANO_YML = Path(__file__).resolve().parents[2] / "meltano.yml"
PAPER_KINDS = {
    "R": "INVOICE",
    "A": "PROPOSAL",
    "L": "DELIVERY_NOTE",
    "G": "CREDIT_NOTE",
    "B": "ORDER_CONFIRMATION",
}


def shipped_stream_maps() -> dict:
    project = yaml.safe_load(MELTANO_YML.read_text())
    (plugin,) = [p for p in project["plugins"]["extractors"] if p["name"] == "tap-legacy-erp"]
    return plugin["config"]["stream_maps"]


def test_the_meltano_yml_stream_maps_rename_and_map_codes(erp_server, erp_config):
    run = run_tap("tap-legacy-erp", {**erp_config, "stream_maps": shipped_stream_maps()})
    assert run.returncode == 0, run.stderr[-2000:]
    variants = {r["__KEY"]: r for r in run.records("artikel_variante")}
    for source in truth(erp_server, "Artikel_Variante"):
        assert variants[source["__KEY"]]["sku"] == source["Nummer"]
        assert "Nummer" not in variants[source["__KEY"]]
    assert "sku" in run.schema("artikel_variante")["schema"]["properties"]
    documents = {r["AbsNr"]: r for r in run.records("belege")}
    marks = 0
    for source in truth(erp_server, "Belege"):
        emitted = documents[source["AbsNr"]]
        assert emitted["document_type"] == PAPER_KINDS[source["Papierart"]]
        assert emitted["Papierart"] == source["Papierart"], "the ERP's own code is kept"
        assert emitted["currency"] == "EUR"
        marks += source["Währung"] == "DM"
    assert marks, "the sample must hold DM documents for this test to mean anything"
    lines = run.records("belege_pos")
    assert {r["line_type"] for r in lines} == {"PRODUCT", "SERVICE", "TEXT", "DISCOUNT"}


def deselected_as_meltano_does(catalog: dict, keep: set[str]) -> dict:
    """Meltano's `select` leaves a stream out by deselecting it and each of its properties."""
    for entry in catalog["streams"]:
        chosen = entry["tap_stream_id"] in keep
        for metadata in entry["metadata"]:
            metadata["metadata"]["selected"] = chosen
    return catalog


def test_the_stream_maps_hold_when_meltano_selects_only_some_tables(
    erp_server, erp_config, tmp_path
):
    """`TAP_LEGACY_ERP__SELECT='["artikel_familie.*", "artikel_variante.*"]'`: the maps of
    the tables left out (belege's) must not stop the run."""
    config = {**erp_config, "stream_maps": shipped_stream_maps()}
    (tmp_path / "config.json").write_text(json.dumps(config))
    tap = str(Path(sys.executable).with_name("tap-legacy-erp"))
    discover = [tap, "--discover", "--config", str(tmp_path / "config.json")]
    catalog = json.loads(subprocess.run(discover, capture_output=True, check=True).stdout)
    products = {"artikel_familie", "artikel_variante"}
    run = run_tap("tap-legacy-erp", config, catalog=deselected_as_meltano_does(catalog, products))
    assert run.returncode == 0, run.stderr[-2000:]
    assert {m["stream"] for m in run.messages if m["type"] == "RECORD"} == products
    assert all("sku" in r for r in run.records("artikel_variante"))
