"""History tables (`load_method: history`, SCD type 2): their DDL, view and conversions.

A history table keeps every version of a row. Its primary key is the stream's key plus
`_sdc_valid_from`, the moment a version began; `_sdc_valid_to` is when it ended, null while
it is current. A partial unique index allows one current version per key, which both
guards the invariant and lets a batch find the current versions it changes by index. The
view `<table>__current` shows the current versions, shaped like the upsert table (without
the interval columns), so readers that want "now" need not know about versions.

An upsert table switched to history keeps its rows as first versions. The other way round
is refused: an upsert into a history table would merge its versions into one row each.
"""

from __future__ import annotations

import typing as t
from dataclasses import replace

from target_warehouse import column_types as ct
from target_warehouse.errors import BadInputError
from target_warehouse.naming import MAX_IDENTIFIER_BYTES, qualified, quote, with_hash_suffix
from target_warehouse.table_schema import (
    VALID_FROM,
    VALID_TO,
    ExistingTable,
    TableLayout,
    plan,
    retyped_columns,
)

CURRENT_VIEW_ENDING = "__current"
ONE_MICROSECOND = "interval '1 microsecond'"
"""Versions of one key never share a start: a tie moves the later one on by this much."""
CLOSE_NOW = f"{quote(VALID_TO)} = greatest(now(), {quote(VALID_FROM)} + {ONE_MICROSECOND})"
"""Ends a version now (a retirement), yet after it began."""


def current_view_name(table: str) -> str:
    """`<table>__current`, shortened with a stable hash when it would exceed 63 bytes."""
    name = f"{table}{CURRENT_VIEW_ENDING}"
    if len(name.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return name
    return with_hash_suffix(table, table, CURRENT_VIEW_ENDING)


def current_view(layout: TableLayout) -> str:
    """The history table's current-version view, schema-qualified."""
    return qualified(layout.schema, current_view_name(layout.table))


def current_index_name(table: str) -> str:
    """The partial unique index of the current versions."""
    return with_hash_suffix(f"{table}_current", f"{table} current")


def is_history_table(existing: ExistingTable | None) -> bool:
    """The table was built by history mode: its versions' start is part of its key."""
    return existing is not None and VALID_FROM in existing.primary_key


def refuse_other_method(
    existing: ExistingTable | None, layout: TableLayout, method: str, stream: str
) -> None:
    """A history table cannot be loaded with another method without losing its versions."""
    if not is_history_table(existing):
        return
    view = current_view(layout)
    raise BadInputError(
        f"table {layout.qualified_name} keeps every version of its rows (load_method "
        f"history), and load_method {method} would merge them into one row per key",
        fix=(
            f'set load_methods {{"{stream}": "history"}} again, or to switch to {method} '
            f"rename the table away (its current rows are in {view}) and run a full sync"
        ),
        stream=stream,
    )


def statements(
    layout: TableLayout, existing: ExistingTable | None, *, view_exists: bool
) -> list[str]:
    """DDL that makes `existing` the history table `layout` describes, with its index and
    view: created, converted from an upsert table, or evolved like any table."""
    if existing is None:
        return [*plan(layout, None), _current_index(layout), _current_view(layout, None)]
    if VALID_FROM not in existing.column_types:
        return _conversion(layout, existing)
    evolution = plan(layout, existing)
    if not evolution and view_exists:
        return []
    # A column used by a view cannot change type; the view is made again right after.
    drop = [drop_current_view(layout)] if retyped_columns(layout, existing) else []
    return [*drop, *evolution, _current_index(layout), _current_view(layout, existing)]


def _conversion(layout: TableLayout, existing: ExistingTable) -> list[str]:
    """Upsert table → history table: every row becomes the first version of its key,
    starting when it was extracted; a row marked deleted is a version already closed."""
    table = layout.qualified_name
    columns = existing.column_types
    started = _first_of([c for c in ("_sdc_extracted_at", "_sdc_received_at") if c in columns])
    fill = [f"{quote(VALID_FROM)} = {started}"]
    if "_sdc_deleted_at" in columns:
        ended = f"greatest(_sdc_deleted_at, {started} + {ONE_MICROSECOND})"
        fill.append(f"{quote(VALID_TO)} = CASE WHEN _sdc_deleted_at IS NOT NULL THEN {ended} END")
    with_interval = replace(
        existing, column_types={**columns, VALID_FROM: ct.TIMESTAMPTZ, VALID_TO: ct.TIMESTAMPTZ}
    )
    return [
        f"ALTER TABLE {table} ADD COLUMN {quote(VALID_FROM)} {ct.TIMESTAMPTZ}, "
        f"ADD COLUMN {quote(VALID_TO)} {ct.TIMESTAMPTZ}",
        f"UPDATE {table} SET {', '.join(fill)}",
        *plan(layout, with_interval),
        _current_index(layout),
        _current_view(layout, with_interval),
    ]


def _first_of(columns: list[str]) -> str:
    return f"coalesce({', '.join(quote(c) for c in [*columns])}{', ' if columns else ''}now())"


def _current_index(layout: TableLayout) -> str:
    keys = ", ".join(quote(column) for column in layout.key_columns)
    return (
        f"CREATE UNIQUE INDEX IF NOT EXISTS {quote(current_index_name(layout.table))} "
        f"ON {layout.qualified_name} ({keys}) WHERE {quote(VALID_TO)} IS NULL"
    )


def _current_view(layout: TableLayout, existing: ExistingTable | None) -> str:
    """The view lists the table's columns in table order (new ones come last), so
    `CREATE OR REPLACE` keeps working as the schema grows."""
    in_table_order = {**(existing.column_types if existing else {}), **layout.columns}
    shown = [c for c in in_table_order if c not in (VALID_FROM, VALID_TO)]
    view = current_view(layout)
    return (
        f"CREATE OR REPLACE VIEW {view} AS SELECT {', '.join(quote(c) for c in shown)} "
        f"FROM {layout.qualified_name} WHERE {quote(VALID_TO)} IS NULL"
    )


def drop_current_view(layout: TableLayout) -> str:
    """Before a column of the table changes type."""
    return f"DROP VIEW IF EXISTS {current_view(layout)}"


def view_exists(cursor: t.Any, layout: TableLayout) -> bool:
    """Whether the table's current-version view is there (a dry run may not have made it)."""
    cursor.execute(
        "SELECT to_regclass(%s) IS NOT NULL",
        (current_view(layout),),
    )
    return bool(cursor.fetchone()[0])
