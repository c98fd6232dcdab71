"""A freshness check on every table that a schedule loads: not loaded within twice its
interval means failed.

The interval comes from the schedules in meltano.yml: a table's is the shortest among the
schedules whose job loads its extractor (a CallRail table loaded every 5 minutes and by a
nightly pass is late after 10 minutes), a schedule's the longest gap between two of its
runs in a week (`7-59/15 * * * *` is 15 minutes, `0 2 * * *` a day). Dagster's own
`build_last_update_freshness_checks` compares it with the table's last materialization, and
its sensor for freshness checks evaluates them; alerts.py says when one fails. A table no
schedule loads gets no check: nobody promised it would be fresh.
"""

from __future__ import annotations

import datetime
import itertools
import typing as t

import dagster as dg

from orchestrate.dagster_internals import cron_fires
from orchestrate.tables import base_plugin

if t.TYPE_CHECKING:
    from orchestrate.meltano_project import Job, Schedule
    from orchestrate.pipelines import Extractor

LATE_AFTER_INTERVALS = 2
A_WEEK_OF_FIRES_FROM = datetime.datetime(2026, 1, 5, tzinfo=datetime.timezone.utc)  # a Monday
FRESHNESS_SENSOR = "freshness_checks_sensor"


def cron_interval(cron: str) -> datetime.timedelta:
    """The longest gap between two successive runs of `cron` over a week."""
    week = datetime.timedelta(days=7)
    fires = []
    for fire in cron_fires(cron, A_WEEK_OF_FIRES_FROM, 7 * 24 * 60 + 1):
        fires.append(fire)
        if fire - A_WEEK_OF_FIRES_FROM > week:
            break
    if len(fires) < 2:  # fires less than weekly: its first gap is the best we know
        fires = cron_fires(cron, A_WEEK_OF_FIRES_FROM, 2)
    return max(later - earlier for earlier, later in itertools.pairwise(fires))


def table_deadlines(
    extractors: t.Mapping[str, Extractor],
    jobs: t.Mapping[str, Job],
    schedules: t.Iterable[Schedule],
) -> dict[dg.AssetKey, datetime.timedelta]:
    """Per table that a schedule loads: how long after its last load it is late."""
    deadlines: dict[dg.AssetKey, datetime.timedelta] = {}
    for schedule in schedules:
        job = jobs.get(schedule.job)
        if job is None:
            continue
        late = cron_interval(schedule.cron) * LATE_AFTER_INTERVALS
        for name in {base_plugin(p.extractor) for p in job.pipelines}:
            for key in extractors[name].keys:
                deadlines[key] = min(deadlines.get(key, late), late)
    return deadlines


def freshness_checks(
    deadlines: t.Mapping[dg.AssetKey, datetime.timedelta],
) -> list[dg.AssetChecksDefinition]:
    """Dagster's last-update freshness checks, one group per deadline."""
    by_deadline: dict[datetime.timedelta, list[dg.AssetKey]] = {}
    for key, late in deadlines.items():
        by_deadline.setdefault(late, []).append(key)
    return [
        check
        for late, keys in sorted(by_deadline.items())
        for check in dg.build_last_update_freshness_checks(assets=keys, lower_bound_delta=late)
    ]


def freshness_sensor(checks: t.Sequence[dg.AssetChecksDefinition]) -> dg.SensorDefinition:
    """Dagster's sensor that evaluates the freshness checks, on by default."""
    return dg.build_sensor_for_freshness_checks(
        freshness_checks=checks,
        name=FRESHNESS_SENSOR,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
