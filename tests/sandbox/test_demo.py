"""`make demo`'s reports on the story's warehouse (tests/support/funnel.py): the funnel summary it
prints after the dbt build, and the sync history of a round, every source's every stream."""

from __future__ import annotations

import datetime

from sandbox.demo import FUNNEL_STAGES, funnel_summary, show_history


def test_the_funnel_summary_counts_each_stage_as_the_story_says(built):
    told = built.expected.values()
    expected = {
        "calls": built.calls,
        "matched prospects": sum(row["prospect_id"] is not None for row in told),
        "appointments": sum(row["appointment_id"] is not None for row in told),
        "sold": sum(bool(row["is_sold"]) for row in told),
        "tasks": sum(row["arrivy_task_id"] is not None for row in told),
    }
    summary = funnel_summary(built.url)
    source, total = summary[-1]
    assert (source, total) == ("all sources", expected)
    assert 0 < expected["sold"] < expected["appointments"] < expected["matched prospects"]
    per_source = [counts for _, counts in summary[:-1]]
    for stage, _ in FUNNEL_STAGES:
        assert sum(counts[stage] for counts in per_source) == total[stage], stage
    sold = [counts["sold"] for counts in per_source]
    assert sold == sorted(sold, reverse=True), "most sales first"


def test_the_history_of_a_round_shows_every_source_with_unchanged_counts(built, capfd):
    [(streams,)] = built.query(
        "SELECT count(DISTINCT (crm_source, sync_type)) FROM orchestration.sync_history"
    )
    show_history(built.url, since=datetime.datetime(2000, 1, 1, tzinfo=datetime.timezone.utc))
    header, *rows = capfd.readouterr().out.splitlines()
    assert "unchanged" in header.split()
    for row in rows:  # no reconciliation pass: its four columns are blank
        processed, created, updated, unchanged, failed, deleted, seconds = row.split()[5:12]
        assert int(unchanged) == int(processed) - int(created) - int(updated) - int(failed)
        assert int(deleted) == 0 and float(seconds) >= 0
    sources = {row.split()[2] for row in rows}
    assert {"callrail", "arrivy", "genius"} <= sources
    assert len(rows) >= streams > 12
