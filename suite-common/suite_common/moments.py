"""Moments as the suite reads and writes them: every one aware and in UTC.

A date setting (`start_date`, `end_date`) that names no zone is read as UTC, and each
source gets the one text form it understands: ISO 8601 with an offset (Arrivy, the
RECONCILE windows), UTC wall time without one (CallRail's `start_date`/`end_date` with
`time_zone=Etc/UTC`), and ISO with microseconds (the form the SDK keeps bookmarks in,
so Genius's bookmarks compare as text).
"""

from __future__ import annotations

import datetime
import typing as t

UTC = datetime.timezone.utc


def aware(moment: datetime.datetime) -> datetime.datetime:
    """`moment` with a zone: UTC when it names none."""
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def setting_moment(config: t.Mapping[str, t.Any], name: str) -> datetime.datetime | None:
    """A date-time setting as an aware moment (UTC when it names no zone), if set."""
    value = config.get(name)
    return aware(datetime.datetime.fromisoformat(str(value))) if value else None


def iso_utc(moment: datetime.datetime, timespec: str = "auto") -> str:
    """ISO 8601 in UTC with its offset (`+00:00`)."""
    return aware(moment).astimezone(UTC).isoformat(timespec=timespec)


def utc_wall_time(moment: datetime.datetime) -> str:
    """UTC wall time, whole seconds, without an offset (CallRail reads it with
    `time_zone=Etc/UTC`)."""
    return aware(moment).astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S")


def iso_utc_text(value: t.Any) -> t.Any:
    """A datetime text an API sent, as UTC ISO 8601 with an offset (no zone: UTC); any
    other value (a date, not a datetime, a number) unchanged."""
    if not isinstance(value, str) or len(value) < 16 or value[10] not in "T ":
        return value
    try:
        moment = datetime.datetime.fromisoformat(value)
    except ValueError:
        return value
    return iso_utc(moment)


def utc_microseconds(value: str | datetime.datetime) -> str:
    """A UTC DATETIME (MySQL's text `YYYY-MM-DD HH:MM:SS[.ffffff]`, or a naive datetime)
    as ISO 8601 with microseconds and `+00:00`: the form the SDK keeps bookmarks in."""
    if isinstance(value, str):
        fraction = value[20:26] if len(value) > 19 else ""
        return f"{value[:10]}T{value[11:19]}.{fraction:0<6}+00:00"
    return value.replace(tzinfo=UTC).isoformat(timespec="microseconds")
