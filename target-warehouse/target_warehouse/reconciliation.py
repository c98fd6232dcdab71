"""Retire rows the source no longer returns inside a scope the tap re-read whole.

Deltas never see a deletion: a call flagged as spam, or a task deleted, simply stops being
listed, and a row deleted from a database table leaves no trace a stamp could follow.
A reconciliation pass re-reads a scope (the last 90 days of calls of one account, or a
whole table) and tells the target so with a suite message, `RECONCILE`:

    {"type": "RECONCILE", "stream": "calls", "phase": "begin"}
      ... the scope's RECORD messages ...
    {"type": "RECONCILE", "stream": "calls", "phase": "end",
     "window": {"property": "start_time", "from": "…+00:00", "to": "…+00:00"},
     "scope": {"account_id": "ACC1"}}
    {"type": "RECONCILE", "stream": "appointments", "phase": "end", "whole_table": true}

`begin` makes the stream's sink remember every key it loads from then on, in a temporary
table written in the same transaction as each batch, with whether the key was live in the
table before that batch. `end` promises that every record whose `window.property` lies in
[from, to] (inclusive) and whose properties equal `scope` (a value, or a list of allowed
values) was sent since `begin`, or, with `whole_table`, every record of the stream: rows
there whose key was not received are retired, `_sdc_deleted_at` set (or deleted with
`hard_delete`; in a history table their current version is closed). A row received again
later gets `_sdc_deleted_at` cleared by its upsert. A tap that dies mid-scope never sends
`end`, so nothing is retired on a partial read; an `end` without `begin` (or after the
stream's schema changed, which starts its sink anew) retires nothing and says so.

Each `end` is measured (`Repair`): the keys the source listed in the scope, the live rows
the warehouse held there before the pass, and the rows retired. With the rows the pass had
to write (the drift no delta had brought), the sync history records them per stream.
"""

from __future__ import annotations

import datetime
import typing as t
from dataclasses import dataclass, field

from target_warehouse.errors import BadInputError
from target_warehouse.naming import quote
from target_warehouse.scd2_table import CLOSE_NOW
from target_warehouse.table_schema import VALID_TO

if t.TYPE_CHECKING:
    from target_warehouse.table_schema import TableLayout

MESSAGE_TYPE = "RECONCILE"
SEEN = "_wh_seen"
"""Temporary table (one per stream connection) of the keys loaded since `begin`."""
WAS_LIVE = "_wh_was_live"
"""Column of `SEEN`: the key had a live row before the batch that brought it."""
Scalar = str | int | bool


@dataclass(frozen=True)
class Window:
    """The property range and scope a tap re-read completely, or the whole table."""

    property: str | None = None
    start: str | None = None
    end: str | None = None
    scope: dict[str, list[Scalar]] = field(default_factory=dict)
    whole_table: bool = False

    def describe(self) -> str:
        """For the log: `start_time in [a, b], account_id = ACC1`, or `the whole table`."""
        if self.whole_table:
            return "the whole table"
        parts = []
        if self.property:
            parts.append(f"{self.property} in [{self.start}, {self.end}]")
        for name, values in self.scope.items():
            shown = values[0] if len(values) == 1 else values
            parts.append(f"{name} = {shown}")
        return ", ".join(parts)

    def properties(self) -> list[str]:
        """The properties the retirement compares."""
        return [*([self.property] if self.property else []), *self.scope]


@dataclass
class Repair:
    """What reconciliation found in the scopes of one stream's pass."""

    listed: int = 0
    """Keys the source listed in the scope (received since `begin`)."""
    live_before: int = 0
    """Rows of the scope that were live in the warehouse before the pass."""
    retired: int = 0
    """Rows of the scope the source no longer listed, retired."""

    def __iadd__(self, other: Repair) -> Repair:
        self.listed += other.listed
        self.live_before += other.live_before
        self.retired += other.retired
        return self


def parse(message: dict) -> Window | None:
    """None for phase `begin`, the window for `end`; a one-line refusal for anything else."""
    stream = str(message.get("stream"))
    phase = message.get("phase")
    if phase == "begin":
        return None
    if phase != "end":
        raise _refused("phase must be 'begin' or 'end'", stream)
    window = message.get("window") or {}
    scope = message.get("scope") or {}
    whole = message.get("whole_table")
    if whole not in (None, False, True):
        raise _refused("whole_table must be true or false", stream)
    if not isinstance(window, dict) or not isinstance(scope, dict):
        raise _refused("window and scope must be JSON objects", stream)
    if whole:
        if window or scope:
            raise _refused("whole_table takes no window or scope", stream)
        return Window(whole_table=True)
    if not window and not scope:
        raise _refused(
            "an end without window or scope would retire the whole table (say whole_table: "
            "true when the tap read it whole)",
            stream,
        )
    start, end = window.get("from"), window.get("to")
    if window and not (isinstance(window.get("property"), str) and start and end):
        raise _refused("window needs property, from and to", stream)
    if window:
        _check_moment(start, stream)
        _check_moment(end, stream)
    return Window(window.get("property"), start, end, _scope(scope, stream))


def _scope(scope: dict, stream: str) -> dict[str, list[Scalar]]:
    values: dict[str, list[Scalar]] = {}
    for name, value in scope.items():
        allowed = value if isinstance(value, list) else [value]
        if not allowed or not all(isinstance(v, str | int | bool) for v in allowed):
            raise _refused(f"scope '{name}' must be a value or a list of values", stream)
        values[name] = allowed
    return values


def _check_moment(text: t.Any, stream: str) -> None:
    try:
        moment = datetime.datetime.fromisoformat(str(text).replace("Z", "+00:00"))
    except ValueError:
        raise _refused(f"window bound {str(text)[:40]!r} is not an ISO 8601 time", stream) from None
    if moment.tzinfo is None:
        raise _refused(f"window bound {text!r} has no UTC offset", stream)


def _refused(problem: str, stream: str) -> BadInputError:
    return BadInputError(
        f"RECONCILE message refused: {problem}",
        fix="the tap must send RECONCILE messages as target-warehouse documents them",
        stream=stream,
    )


def create_seen_table(cursor: t.Any, layout: TableLayout) -> None:
    """An empty temporary table of the stream's key columns (and whether each was live
    before its batch), kept for the connection."""
    keys = ", ".join(quote(column) for column in layout.key_columns)
    cursor.execute(f"DROP TABLE IF EXISTS {SEEN}")
    cursor.execute(
        f"CREATE TEMPORARY TABLE {SEEN} AS SELECT {keys} FROM {layout.qualified_name} WITH NO DATA"
    )
    cursor.execute(f"ALTER TABLE {SEEN} ADD COLUMN {WAS_LIVE} boolean NOT NULL DEFAULT false")
    cursor.execute(f"ALTER TABLE {SEEN} ADD PRIMARY KEY ({keys})")


def remember_staged_keys(cursor: t.Any, layout: TableLayout, stage: str) -> None:
    """Add the keys of the batch staged in `stage`, and whether each had a live row:
    called before the batch is merged, in the same transaction."""
    keys = ", ".join(quote(column) for column in layout.key_columns)
    staged = ", ".join(f"s.{quote(column)}" for column in layout.key_columns)
    matches = " AND ".join(f"target.{quote(c)} = s.{quote(c)}" for c in layout.key_columns)
    was_live = (
        f"EXISTS (SELECT FROM {layout.qualified_name} AS target "
        f"WHERE {matches} AND {_live_condition(layout)})"
    )
    cursor.execute(
        f"INSERT INTO {SEEN} ({keys}, {WAS_LIVE}) SELECT DISTINCT ON ({staged}) {staged}, "
        f"{was_live} FROM {stage} AS s ON CONFLICT DO NOTHING"
    )


def _live_condition(layout: TableLayout) -> str:
    """A row of the table that is live: the current version, or one not marked deleted."""
    if layout.versioned:
        return f"target.{quote(VALID_TO)} IS NULL"
    return "target._sdc_deleted_at IS NULL"


def retire_unseen(
    cursor: t.Any, layout: TableLayout, window: Window, *, hard_delete: bool
) -> Repair:
    """Retire the window's rows whose key was not loaded since `begin`, and measure the
    scope: keys listed, rows live before the pass, rows retired. In a history table a
    retirement ends the current version."""
    conditions, parameters = _window_conditions(layout, window)
    matches = " AND ".join(f"{SEEN}.{quote(c)} = target.{quote(c)}" for c in layout.key_columns)
    live = _live_condition(layout)
    in_scope = " AND ".join([live, *conditions]) if conditions else live
    cursor.execute(
        f"SELECT count(*), count(*) FILTER (WHERE {SEEN}.{WAS_LIVE}) "
        f"FROM {layout.qualified_name} AS target JOIN {SEEN} ON {matches} WHERE {in_scope}",
        parameters,
    )
    listed, live_seen = cursor.fetchone()
    where = " AND ".join([*conditions, f"NOT EXISTS (SELECT FROM {SEEN} WHERE {matches})"])
    if layout.versioned:
        sql = (
            f"UPDATE {layout.qualified_name} AS target SET {CLOSE_NOW} "
            f"WHERE target.{quote(VALID_TO)} IS NULL AND {where}"
        )
    elif hard_delete:
        sql = f"DELETE FROM {layout.qualified_name} AS target WHERE {where}"
    else:
        sql = (
            f"UPDATE {layout.qualified_name} AS target SET _sdc_deleted_at = now() "
            f"WHERE target._sdc_deleted_at IS NULL AND {where}"
        )
    cursor.execute(sql, parameters)
    retired = int(cursor.rowcount)
    return Repair(listed=int(listed), live_before=int(live_seen) + retired, retired=retired)


def _window_conditions(layout: TableLayout, window: Window) -> tuple[list[str], list[t.Any]]:
    columns = layout.property_columns
    conditions: list[str] = []
    parameters: list[t.Any] = []
    if window.property:
        column = f"target.{quote(columns[window.property])}"
        conditions.append(f"{column} >= %s AND {column} <= %s")
        parameters += [window.start, window.end]
    for name, values in window.scope.items():
        conditions.append(f"target.{quote(columns[name])} IN %s")
        parameters.append(tuple(values))
    return conditions, parameters


def missing_properties(layout: TableLayout, window: Window) -> list[str]:
    """Window or scope properties the stream's table has no column for."""
    return [name for name in window.properties() if name not in layout.property_columns]
