"""The dbt project on the story (tests/transform/conftest.py): every model built and tested,
one funnel row per call, the funnel equal to what the story's generator says, row by row."""

from __future__ import annotations

import json
from collections import Counter

from tests.support.contact_truth import digits_e164
from tests.support.funnel import STORY_MATCH_RATE, dbt

FUNNEL_COLUMNS = (
    "call_id", "prospect_id", "matched_on", "lead_id", "appointment_id",
    "appointment_outcome_id", "is_sold", "arrivy_task_id",
    "extract(epoch from time_to_appointment)::bigint",
    "extract(epoch from time_to_task)::bigint",
)  # fmt: skip
NOTHING = {
    "prospect_id": None, "matched_on": None, "lead_id": None, "appointment_id": None,
    "appointment_outcome_id": None, "is_sold": False, "arrivy_task_id": None,
    "seconds_to_appointment": None, "seconds_to_task": None,
}  # fmt: skip
"""The funnel of a call nobody in the story made: it matches nothing."""


def funnel(built) -> dict[str, dict]:
    rows = built.query(f"SELECT {', '.join(FUNNEL_COLUMNS)} FROM analytics.lead_funnel")
    names = [*NOTHING]
    return {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}


def test_every_model_is_built_and_every_test_passes(built):
    results = json.loads((built.artefacts / "run_results.json").read_text())["results"]
    statuses = Counter(result["status"] for result in results)
    assert set(statuses) <= {"success", "pass"}, statuses
    kinds = Counter(result["unique_id"].split(".")[0] for result in results)
    assert kinds["model"] >= 17 and kinds["test"] >= 20 and kinds["unit_test"] >= 4, kinds


def test_one_funnel_row_per_call(built):
    [(rows, distinct)] = built.query(
        "SELECT count(*), count(DISTINCT call_id) FROM analytics.lead_funnel"
    )
    [(calls,)] = built.query("SELECT count(*) FROM callrail.calls__current")
    assert rows == distinct == calls == built.calls


def test_the_funnel_equals_the_story_row_by_row(built):
    found = funnel(built)
    assert len(built.expected) >= 36, "the story placed its people"
    for call_id, row in found.items():
        told = built.expected.get(call_id)
        want = NOTHING if told is None else {name: told[name] for name in NOTHING}
        if want["arrivy_task_id"] is not None:
            want = {**want, "arrivy_task_id": str(want["arrivy_task_id"])}
        assert row == want, (call_id, told and told["case"])


def test_every_phone_match_is_a_real_match(built):
    matches = built.query(
        "SELECT f.caller_phone_e164, c.customer_phone_number, p.phone1, p.phone2 "
        "FROM analytics.lead_funnel f JOIN callrail.calls__current c ON c.id = f.call_id "
        "JOIN genius.prospects p ON p.id = f.prospect_id WHERE f.matched_on = 'phone'"
    )
    assert matches
    for caller_e164, caller, phone1, phone2 in matches:
        assert caller_e164 == digits_e164(caller)
        assert caller_e164 in {digits_e164(phone1), digits_e164(phone2)}


def test_the_match_rate_is_the_storys(built):
    [(rate,)] = built.query(
        "SELECT count(prospect_id)::numeric / count(*) FROM analytics.lead_funnel"
    )
    matched = sum(1 for row in built.expected.values() if row["prospect_id"] is not None)
    assert float(rate) == matched / built.calls
    assert float(rate) >= STORY_MATCH_RATE
    above = dbt(
        built.url, "test", "--select", "match_rate_is_at_least_the_minimum", check=False,
        env={"DBT_MIN_MATCH_RATE": str(float(rate) + 0.01)},
    )  # fmt: skip
    assert above.returncode == 1 and "FAIL 1 match_rate_is_at_least_the_minimum" in above.stdout


def test_marketing_performance_adds_up_to_the_funnel(built):
    [(calls, prospects, appointments, sales, tasks)] = built.query(
        "SELECT sum(calls), sum(matched_prospects), sum(appointments), sum(sales), "
        "sum(completed_tasks) FROM analytics.marketing_performance"
    )
    expected = built.expected.values()
    assert calls == built.calls
    assert prospects == sum(1 for row in expected if row["prospect_id"])
    assert appointments == sum(1 for row in expected if row["appointment_id"])
    assert sales == sum(1 for row in expected if row["is_sold"])
    [(completed,)] = built.query(
        "SELECT count(*) FROM analytics.lead_funnel WHERE is_task_completed"
    )
    assert tasks == completed > 0
    by_source = dict(
        built.query(
            "SELECT genius_marketing_source, sum(sales) FROM analytics.marketing_performance "
            "GROUP BY 1"
        )
    )
    assert by_source["(no prospect)"] == 0 and sum(by_source.values()) == sales


def test_sources_are_fresh_and_the_docs_generate(built):
    freshness = dbt(built.url, "source", "freshness")
    assert "ERROR STALE" not in freshness.stdout and "WARN" not in freshness.stdout
    dbt(built.url, "docs", "generate")
    catalog = json.loads((built.artefacts / "catalog.json").read_text())
    assert "model.home_services.lead_funnel" in catalog["nodes"]
    manifest = json.loads((built.artefacts / "manifest.json").read_text())
    described = manifest["nodes"]["model.home_services.lead_funnel"]["description"]
    assert "nearest in time" in described and "E.164" in described


def test_a_deleted_call_or_prospect_leaves_the_funnel(built):
    """Rows the source no longer lists (`_sdc_deleted_at`) are left out of every model."""
    matched = next(call for call, row in built.expected.items() if row["matched_on"] == "phone")
    prospect = built.expected[matched]["prospect_id"]
    other = next(call for call, row in built.expected.items() if row["prospect_id"] is None)
    mark = "UPDATE {} SET _sdc_deleted_at = {} WHERE id = %s"
    try:
        built.query(mark.format("callrail.calls", "now()") + " RETURNING id", other)
        built.query(mark.format("genius.prospects", "now()") + " RETURNING id", prospect)
        dbt(built.url, "build", "--select", "+lead_funnel", "--exclude", "test_type:data")
        found = funnel(built)
        assert other not in found and len(found) == built.calls - 1
        assert found[matched]["prospect_id"] != prospect
    finally:
        built.query(mark.format("callrail.calls", "NULL") + " RETURNING id", other)
        built.query(mark.format("genius.prospects", "NULL") + " RETURNING id", prospect)
        dbt(built.url, "build", "--select", "+lead_funnel", "--exclude", "test_type:data")
