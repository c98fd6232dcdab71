"""orchestrate.dagster_internals: Dagster's cron iterator still lists when a cron fires, as
the schedules read it (a Dagster release that moves it fails here, not in the definitions)."""

from __future__ import annotations

import datetime

from orchestrate.dagster_internals import cron_fires

UTC = datetime.timezone.utc


def test_cron_fires_lists_the_times_a_cron_runs():
    start = datetime.datetime(2026, 1, 5, 0, 0, 30, tzinfo=UTC)
    assert cron_fires("7-59/15 * * * *", start, 3) == [
        datetime.datetime(2026, 1, 5, 0, 7, tzinfo=UTC),
        datetime.datetime(2026, 1, 5, 0, 22, tzinfo=UTC),
        datetime.datetime(2026, 1, 5, 0, 37, tzinfo=UTC),
    ]
    nightly = cron_fires("15 4 * * *", start, 2)
    assert [fire.isoformat() for fire in nightly] == [
        "2026-01-05T04:15:00+00:00",
        "2026-01-06T04:15:00+00:00",
    ]
