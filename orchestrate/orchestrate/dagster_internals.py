"""The one Dagster internal the orchestration relies on, behind a public name.

Dagster parses cron strings itself (it no longer depends on croniter) and offers no public
way to list when a cron fires. The freshness checks need a schedule's interval, so
`cron_fires` forwards to Dagster's own iterator: the same parser the schedules run on.
tests/orchestrate/test_dagster_internals.py fails when a Dagster release moves it.
"""

from __future__ import annotations

import datetime
import itertools
import typing as t

from dagster._utils.schedules import cron_string_iterator


def cron_fires(
    cron: str, start: datetime.datetime, count: int, timezone: str = "UTC"
) -> list[datetime.datetime]:
    """The first `count` times `cron` fires after `start`, in `timezone`."""
    fires: t.Iterator[datetime.datetime] = cron_string_iterator(start.timestamp(), cron, timezone)
    return list(itertools.islice(fires, count))
