"""Merge one staged batch into a history table, set-based: one statement plans, one closes
the versions that ended, one inserts the versions that began.

Each key's events are chained in input order behind the key's latest stored version:
- a record whose tracked columns (all but `_sdc_*`) equal the version before it adds
  nothing; one that differs begins a version and ends the one before;
- a record with `_sdc_deleted_at` ends the open version, if there is one;
- a record extracted no later than the key's latest stored moment is one the table has
  seen (a re-run after a crash) when a version with its data was current at its
  extraction time, and a delete that old always is: both are skipped, so loading the
  same records twice gives the same table. Records are told apart by their extraction
  time, which the SDK stamps on each.
A version begins at its record's extraction time (`_sdc_valid_from` in the stage), but
never at or before the version before it: a tie moves it on by a microsecond, so the
intervals of a key chain without gaps or overlaps, in input order.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

from target_warehouse.naming import quote
from target_warehouse.scd2_table import ONE_MICROSECOND
from target_warehouse.table_schema import VALID_FROM, VALID_TO, TableLayout

PLAN = "_wh_plan"


@dataclass
class MergeCounts:
    """What the batch did: versions begun, versions ended by a newer one or by a delete."""

    created: int
    updated: int
    deleted: int


def tracked_columns(layout: TableLayout, columns: t.Sequence[str]) -> list[str]:
    """The columns whose change makes a new version: every loaded one but keys and _sdc_*."""
    return [c for c in columns if not c.startswith("_sdc_") and c not in layout.key_columns]


def _fingerprint(alias: str, tracked: list[str]) -> str:
    """One comparable value for a row's tracked columns (text of the typed row)."""
    if not tracked:
        return "''"
    return "md5(ROW(" + ", ".join(f"{alias}.{quote(c)}" for c in tracked) + ")::text)"


def merge(
    cursor: t.Any, layout: TableLayout, columns: list[str], stage: str, sequence: str
) -> MergeCounts:
    """Plan, close and insert; the caller commits (or rolls back a dry run)."""
    cursor.execute(plan_sql(layout, columns, stage, sequence))
    cursor.execute(close_sql(layout))
    closed_stored = cursor.rowcount
    cursor.execute(insert_sql(layout, columns, stage, sequence))
    if "_sdc_table_version" in columns:
        cursor.execute(table_version_sql(layout, stage))
    cursor.execute(
        f"SELECT count(*) FILTER (WHERE kind = 'version'), "
        f"count(*) FILTER (WHERE kind = 'version' AND valid_to IS NOT NULL), "
        f"count(*) FILTER (WHERE kind = 'delete') FROM {PLAN}"
    )
    created, closed_new, deleted = cursor.fetchone()
    updated = closed_stored + closed_new - deleted
    return MergeCounts(created=created, updated=updated, deleted=deleted)


def plan_sql(layout: TableLayout, columns: list[str], stage: str, sequence: str) -> str:
    """The temporary plan: per key, its latest stored version (kind base) and the events
    that change something (kind version or delete), each with its interval."""
    keys = [quote(c) for c in layout.key_columns]
    key_list = ", ".join(keys)
    tracked = tracked_columns(layout, columns)
    table = layout.qualified_name
    same_key = " AND ".join(f"v.{k} = s.{k}" for k in keys)
    lookup = " AND ".join(f"v.{k} = k.{k}" for k in keys)
    replay = _replay_condition(tracked)
    observed = "s._sdc_deleted_at IS NULL" if "_sdc_deleted_at" in layout.columns else "TRUE"
    return f"""
CREATE TEMPORARY TABLE {PLAN} ON COMMIT DROP AS
WITH latest AS (
    SELECT k.*, l.valid_from, l.valid_to, l.token
    FROM (SELECT DISTINCT {key_list} FROM {stage}) AS k
    CROSS JOIN LATERAL (
        SELECT v.{quote(VALID_FROM)} AS valid_from, v.{quote(VALID_TO)} AS valid_to,
               {_fingerprint("v", tracked)} AS token
        FROM {table} AS v WHERE {lookup}
        ORDER BY v.{quote(VALID_FROM)} DESC LIMIT 1
    ) AS l
),
events AS (
    SELECT {", ".join(f"s.{k}" for k in keys)}, s.{sequence} AS seq,
           s.{quote(VALID_FROM)} AS at,
           CASE WHEN {observed} THEN {_fingerprint("s", tracked)} END AS token
    FROM {stage} AS s
    LEFT JOIN latest AS l ON {" AND ".join(f"l.{k} = s.{k}" for k in keys)}
    WHERE l.valid_from IS NULL
       OR s.{quote(VALID_FROM)} > coalesce(l.valid_to, l.valid_from)
       OR ({observed} AND NOT EXISTS (SELECT FROM {table} AS v WHERE {same_key} AND {replay}))
),
chain AS (
    SELECT {key_list}, -1::bigint AS seq, coalesce(valid_to, valid_from) AS at,
           CASE WHEN valid_to IS NULL THEN token END AS token, 'base' AS kind
    FROM latest
    UNION ALL
    SELECT {key_list}, seq, at, token,
           CASE WHEN token IS NULL THEN 'delete' ELSE 'version' END
    FROM events
),
marked AS (
    SELECT *, lag(token) OVER (PARTITION BY {key_list} ORDER BY seq) AS token_before
    FROM chain
),
effective AS (
    SELECT *, row_number() OVER (PARTITION BY {key_list} ORDER BY seq) AS position
    FROM marked
    WHERE kind = 'base'
       OR (kind = 'version' AND token IS DISTINCT FROM token_before)
       OR (kind = 'delete' AND token_before IS NOT NULL)
),
timed AS (
    SELECT *, max(at - position * {ONE_MICROSECOND}) OVER (
               PARTITION BY {key_list} ORDER BY seq ROWS UNBOUNDED PRECEDING
           ) + position * {ONE_MICROSECOND} AS moment
    FROM effective
)
SELECT {key_list}, seq, kind, moment AS valid_from,
       lead(moment) OVER (PARTITION BY {key_list} ORDER BY seq) AS valid_to
FROM timed
"""


def _replay_condition(tracked: list[str]) -> str:
    """A stored version with the record's data was current when it was extracted (or
    ended at that moment): the record is one the table already holds (asked only of
    records no newer than the key's latest stored moment)."""
    same_data = f"{_fingerprint('v', tracked)} = {_fingerprint('s', tracked)}"
    return f"{same_data} AND coalesce(v.{quote(VALID_TO)} >= s.{quote(VALID_FROM)}, true)"


def close_sql(layout: TableLayout) -> str:
    """End the stored current versions that a new version or a delete follows."""
    matches = " AND ".join(f"t.{quote(c)} = p.{quote(c)}" for c in layout.key_columns)
    return (
        f"UPDATE {layout.qualified_name} AS t SET {quote(VALID_TO)} = p.valid_to "
        f"FROM {PLAN} AS p WHERE p.kind = 'base' AND p.valid_to IS NOT NULL AND {matches} "
        f"AND t.{quote(VALID_TO)} IS NULL"
    )


def insert_sql(layout: TableLayout, columns: list[str], stage: str, sequence: str) -> str:
    """Insert the versions that began, with their interval from the plan."""
    loaded = [c for c in columns if c not in (VALID_FROM, VALID_TO)]
    values = ", ".join(f"s.{quote(c)}" for c in loaded)
    names = ", ".join(quote(c) for c in [*loaded, VALID_FROM, VALID_TO])
    return (
        f"INSERT INTO {layout.qualified_name} ({names}) "
        f"SELECT {values}, p.valid_from, p.valid_to FROM {PLAN} AS p "
        f"JOIN {stage} AS s ON s.{sequence} = p.seq WHERE p.kind = 'version'"
    )


def table_version_sql(layout: TableLayout, stage: str) -> str:
    """A full-table sync re-reads unchanged rows too: their current version takes the new
    `_sdc_table_version` in place, so ACTIVATE_VERSION does not end it."""
    keys = [quote(c) for c in layout.key_columns]
    matches = " AND ".join(f"t.{k} = s.{k}" for k in keys)
    return (
        f"UPDATE {layout.qualified_name} AS t SET _sdc_table_version = s.version "
        f"FROM (SELECT {', '.join(keys)}, max(_sdc_table_version) AS version FROM {stage} "
        f"WHERE _sdc_table_version IS NOT NULL GROUP BY {', '.join(keys)}) AS s "
        f"WHERE {matches} AND t.{quote(VALID_TO)} IS NULL "
        f"AND t._sdc_table_version IS DISTINCT FROM s.version"
    )
