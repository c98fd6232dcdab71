"""Write one batch of CSV rows into a stream's table in a single transaction.

upsert: COPY into a temporary staging table, keep the last row per key (only when the batch
  holds duplicates), then one `INSERT … ON CONFLICT … DO UPDATE` that rewrites a row only when
  its data changed. `RETURNING (xmax = 0)` lets Postgres itself count created vs updated.
append-only: a plain COPY into the table.
overwrite: the same upsert into a shadow table built beside the live one, which `swap_in`
  renames into place in one transaction at the end of the stream.

A batch either commits whole or not at all, so nothing already committed is ever lost and
the caller can advance state only after `commit` returned.
"""

from __future__ import annotations

import io
import typing as t
from dataclasses import dataclass

import psycopg2
import psycopg2.errors

from target_warehouse import column_types as ct
from target_warehouse import dependent_views, reconciliation, scd2_merge, scd2_table
from target_warehouse.naming import identifier, qualified, quote
from target_warehouse.table_schema import VALID_TO, TableLayout, primary_key_name, type_change

STAGE = "_wh_stage"
COPY_CHUNK_BYTES = 4 * 1024 * 1024
SEQUENCE_COLUMN = "_wh_seq"
# Metadata that changes on every load: left out of "did the row change?" comparisons.
VOLATILE_COLUMNS = frozenset(
    {
        "_sdc_extracted_at",
        "_sdc_received_at",
        "_sdc_batched_at",
        "_sdc_sequence",
        "_sdc_sync_started_at",
    }
)


@dataclass
class BatchResult:
    """What one batch did to the table, as counted by Postgres."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0
    deleted: int = 0

    def __iadd__(self, other: BatchResult) -> BatchResult:
        self.created += other.created
        self.updated += other.updated
        self.unchanged += other.unchanged
        self.deleted += other.deleted
        return self


def shadow_table_name(table: str) -> str:
    """Name of the table an overwrite load builds beside `table`."""
    return identifier(f"_wh_new_{table}")


class TableLoader:
    """Loads batches into one table through one connection."""

    def __init__(self, connection: t.Any, layout: TableLayout, *, hard_delete: bool) -> None:
        self.connection = connection
        self.layout = layout
        self.hard_delete = hard_delete

    def widen_columns(self, cursor: t.Any, widenings: dict[str, str]) -> None:
        """Widen columns whose incoming values outgrew their type (e.g. bigint overflow)."""
        if not widenings:
            return
        cursor.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped",
            (self.layout.qualified_name,),
        )
        actual = {name: ct.CATALOG_NAMES.get(kind, kind) for name, kind in cursor.fetchall()}
        widened = {c: ct.widen(actual.get(c), kind) for c, kind in widenings.items()}
        changes = {c: kind for c, kind in widened.items() if kind and kind != actual.get(c)}
        if not changes:
            return
        # The views that read the table (its current view, dbt's models) are made again
        # over the wider columns.
        change = type_change({c: f"{actual.get(c)} → {kind}" for c, kind in changes.items()})
        with dependent_views.set_aside(cursor, self.layout.qualified_name, change=change):
            for column, wider in changes.items():
                using = ct.conversion(quote(column), wider)
                cursor.execute(
                    f"ALTER TABLE {self.layout.qualified_name} "
                    f"ALTER COLUMN {quote(column)} TYPE {wider} USING {using}"
                )
                self.layout.columns[column] = wider

    def append(self, columns: list[str], rows: list[str]) -> BatchResult:
        """COPY rows straight into the table and commit."""
        with self.connection.cursor() as cursor:
            self._copy(cursor, self.layout.qualified_name, columns, rows)
        return BatchResult(created=len(rows))

    def upsert(
        self,
        columns: list[str],
        rows: list[str],
        *,
        has_duplicates: bool,
        remember_keys: bool = False,
    ) -> BatchResult:
        """Stage rows, then insert or update them by key in one statement; with
        `remember_keys`, first note their keys for a reconciliation (same transaction)."""
        with self.connection.cursor() as cursor:
            self._stage(cursor, columns, rows, numbered=has_duplicates)
            if remember_keys:
                reconciliation.remember_staged_keys(cursor, self.layout, STAGE)
            cursor.execute(self._merge_sql(columns, deduplicate=has_duplicates))
            created, updated = cursor.fetchone()
            result = BatchResult(created=created, updated=updated)
            result.unchanged = len(rows) - created - updated
            if self.hard_delete and "_sdc_deleted_at" in columns:
                result.deleted = self._delete_marked(cursor, deduplicated=has_duplicates)
        return result

    def record_versions(
        self, columns: list[str], rows: list[str], *, remember_keys: bool = False
    ) -> BatchResult:
        """History tables: stage rows in input order, then close and insert versions (with
        `remember_keys`, their keys noted first for a reconciliation)."""
        with self.connection.cursor() as cursor:
            self._stage(cursor, columns, rows, numbered=True)
            if remember_keys:
                reconciliation.remember_staged_keys(cursor, self.layout, STAGE)
            counts = scd2_merge.merge(cursor, self.layout, columns, STAGE, SEQUENCE_COLUMN)
        return BatchResult(
            created=counts.created,
            updated=counts.updated,
            deleted=counts.deleted,
            unchanged=len(rows) - counts.created - counts.deleted,
        )

    def _stage(self, cursor: t.Any, columns: list[str], rows: list[str], *, numbered: bool) -> None:
        """COPY rows into a temporary table shaped like the target; `numbered` adds each
        row's position in the batch."""
        cursor.execute(
            f"CREATE TEMPORARY TABLE {STAGE} (LIKE {self.layout.qualified_name}) ON COMMIT DROP"
        )
        if numbered:
            cursor.execute(f"ALTER TABLE {STAGE} ADD COLUMN {SEQUENCE_COLUMN} bigint")
            columns = [*columns, SEQUENCE_COLUMN]
            rows = [f"{row[:-1]},{position}\n" for position, row in enumerate(rows)]
        self._copy(cursor, STAGE, columns, rows)

    def _copy(self, cursor: t.Any, table_sql: str, columns: list[str], rows: list[str]) -> None:
        column_list = ", ".join(quote(column) for column in columns)
        # One bytes buffer read in large chunks: psycopg2 takes the GIL for every chunk it
        # reads, so few big reads keep the encoding thread running while Postgres copies.
        buffer = io.BytesIO("".join(rows).encode("utf-8"))
        sql = f"COPY {table_sql} ({column_list}) FROM STDIN (FORMAT csv)"
        cursor.copy_expert(sql, buffer, size=COPY_CHUNK_BYTES)

    def _merge_sql(self, columns: list[str], *, deduplicate: bool) -> str:
        keys = [quote(column) for column in self.layout.key_columns]
        column_list = ", ".join(quote(column) for column in columns)
        source = f"SELECT {column_list} FROM {STAGE}"
        if deduplicate:
            source = (
                f"SELECT DISTINCT ON ({', '.join(keys)}) {column_list} FROM {STAGE} "
                f"ORDER BY {', '.join(keys)}, {SEQUENCE_COLUMN} DESC"
            )
        non_keys = [c for c in columns if c not in self.layout.key_columns]
        compared = [c for c in non_keys if c not in VOLATILE_COLUMNS]
        if non_keys:
            assignments = ", ".join(f"{quote(c)} = EXCLUDED.{quote(c)}" for c in non_keys)
            action = f"DO UPDATE SET {assignments}"
            if compared:
                old = ", ".join(f"target.{quote(c)}" for c in compared)
                new = ", ".join(f"EXCLUDED.{quote(c)}" for c in compared)
                action += f" WHERE ROW({old}) IS DISTINCT FROM ROW({new})"
        else:
            action = "DO NOTHING"
        return (
            f"WITH written AS (INSERT INTO {self.layout.qualified_name} AS target "
            f"({column_list}) {source} ON CONFLICT ({', '.join(keys)}) {action} "
            "RETURNING (xmax = 0) AS created) "
            "SELECT count(*) FILTER (WHERE created), count(*) FILTER (WHERE NOT created) "
            "FROM written"
        )

    def _delete_marked(self, cursor: t.Any, *, deduplicated: bool) -> int:
        """hard_delete: remove the rows whose last record in the batch says deleted."""
        keys = [quote(c) for c in self.layout.key_columns]
        matches = " AND ".join(f"target.{k} = last.{k}" for k in keys)
        last = STAGE
        if deduplicated:
            last = (
                f"(SELECT DISTINCT ON ({', '.join(keys)}) {', '.join(keys)}, _sdc_deleted_at "
                f"FROM {STAGE} ORDER BY {', '.join(keys)}, {SEQUENCE_COLUMN} DESC)"
            )
        cursor.execute(
            f"DELETE FROM {self.layout.qualified_name} AS target USING {last} AS last "
            f"WHERE {matches} AND last._sdc_deleted_at IS NOT NULL"
        )
        return cursor.rowcount

    def retire_old_versions(self, version: int) -> int:
        """After ACTIVATE_VERSION: delete, or mark deleted, rows of older table versions."""
        older = "(_sdc_table_version IS NULL OR _sdc_table_version < %s)"
        with self.connection.cursor() as cursor:
            if self.layout.versioned:
                cursor.execute(
                    f"UPDATE {self.layout.qualified_name} SET {scd2_table.CLOSE_NOW} "
                    f"WHERE {older} AND {quote(VALID_TO)} IS NULL",
                    (version,),
                )
            elif self.hard_delete:
                cursor.execute(
                    f"DELETE FROM {self.layout.qualified_name} WHERE {older}", (version,)
                )
            else:
                cursor.execute(
                    f"UPDATE {self.layout.qualified_name} SET _sdc_deleted_at = now() "
                    f"WHERE {older} AND _sdc_deleted_at IS NULL",
                    (version,),
                )
            return cursor.rowcount


def swap_in(cursor: t.Any, schema: str, shadow: str, table: str) -> None:
    """Replace `table` by `shadow` atomically: readers see the old or the new table, whole;
    the views that read it (dbt's models) are made again over the new one."""
    live = qualified(schema, table)
    with dependent_views.set_aside(cursor, live, change="the table is replaced by its new load"):
        cursor.execute(f"DROP TABLE IF EXISTS {live}")
        cursor.execute(f"ALTER TABLE {qualified(schema, shadow)} RENAME TO {quote(table)}")
    cursor.execute(
        "SELECT conname FROM pg_constraint WHERE conrelid = to_regclass(%s) AND contype = 'p'",
        (qualified(schema, table),),
    )
    row = cursor.fetchone()
    if row and row[0] != primary_key_name(table):
        cursor.execute(
            f"ALTER TABLE {qualified(schema, table)} "
            f"RENAME CONSTRAINT {quote(row[0])} TO {quote(primary_key_name(table))}"
        )


def is_key_conflict(exc: Exception) -> bool:
    """A COPY met a key that is already in the table."""
    return isinstance(exc, psycopg2.errors.UniqueViolation)


def is_duplicate_in_batch(exc: Exception) -> bool:
    """Postgres saw two rows with one key that Python considered distinct."""
    return isinstance(exc, psycopg2.errors.CardinalityViolation)
