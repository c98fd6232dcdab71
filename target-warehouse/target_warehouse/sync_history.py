"""Sync history in the warehouse: one row per stream per run, like the old SyncHistory table.

The run ledger's one public module: what an orchestrator (Dagster, `warehouse-history run`)
may use of target-warehouse is here (`__all__`): the source name a run's rows carry, marking
a failed pipeline's rows, the words of its failure (from pipeline_output), and reading back
a run's rows and each stream's last reconciliation pass.

Rows are written on a connection of their own in autocommit, so a stream reads `running`
from the moment it starts, whatever happens to its loads. A row is completed when its run
ends: `success`, `partial` (records were quarantined) or `failed` (with the error). A run
that was killed cannot complete its rows, so the next run of the same source marks any rows
still `running` from other runs as `failed`, saying that the run did not finish.

Created and updated counts come from Postgres itself (see loading.py), and the final
bookmark is the stream's bookmark in the last state the target emitted, i.e. committed.
"""

from __future__ import annotations

import datetime
import math
import os
import re
import time
import typing as t
import uuid
from dataclasses import dataclass, field

import msgspec
import psycopg2.extras

from target_warehouse.connection import connect
from target_warehouse.naming import identifier, qualified
from target_warehouse.pipeline_output import STOPPED_UNANNOUNCED, failed_streams, one_line_error

__all__ = [
    "STOPPED_UNANNOUNCED",
    "Reconciled",
    "failed_streams",
    "last_passes",
    "mark_pipeline_failed",
    "one_line_error",
    "run_rows",
    "source_name",
]

ABANDONED = (
    "the run did not finish (it was killed, or lost the warehouse, before recording its end)"
)
SECRET_NAME = re.compile(
    r"password|secret|token|api_?key|auth|credential|private|sqlalchemy_url", re.IGNORECASE
)
REDACTED = "***"


def source_name(config: t.Mapping[str, t.Any]) -> str:
    """`source_name`, else the Meltano extractor's name without `tap-` and without the
    `--suffix` of a plugin that inherits from it (`tap-legacy-erp` → `legacy_erp`,
    `tap-callrail--reconcile` → `callrail`), else the target schema."""
    name = config.get("source_name") or os.environ.get("MELTANO_EXTRACTOR_NAME")
    if name:
        name = str(name).removeprefix("tap-").split("--")[0]
    else:
        name = str(config["default_target_schema"])
    return re.sub(r"[^0-9a-z]+", "_", name.lower()).strip("_")


def redacted(settings: t.Mapping[str, t.Any], secrets: t.Collection[str] = ()) -> dict:
    """Settings with every secret replaced by `***`: the names declared secret, and any
    name that says it holds one (password, token, key, …)."""
    return {
        name: REDACTED
        if value not in (None, "") and (name in secrets or SECRET_NAME.search(name))
        else value
        for name, value in settings.items()
    }


def run_configuration(config: t.Mapping[str, t.Any], secrets: t.Collection[str]) -> dict:
    """What the history records of a run's settings: the target's, and the extractor's as
    Meltano passes them to the loader (`MELTANO_EXTRACT_*`), secrets redacted."""
    extractor = {
        name.removeprefix("MELTANO_EXTRACT_").lower(): value
        for name, value in os.environ.items()
        if name.startswith("MELTANO_EXTRACT_")
    }
    configuration = {"target": redacted(config, secrets)}
    if extractor:
        configuration["extractor"] = redacted(extractor)
    return configuration


@dataclass
class StreamCounts:
    """What a stream did in this run."""

    processed: int = 0
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    failed: int = 0
    deleted: int = 0
    """Rows retired: deleted records, ACTIVATE_VERSION and reconciliation."""
    reconciled: Reconciled | None = None
    """What a reconciliation pass of the stream found; None in other runs."""


@dataclass(frozen=True)
class Reconciled:
    """A reconciliation pass's measure of how far the warehouse was from the source."""

    source_rows: int
    """Rows the source listed in the pass's scopes."""
    live_before: int
    """Rows live in the warehouse there before the pass."""
    retired: int
    """Rows retired: the source no longer listed them."""
    drift: int
    """Rows the pass wrote: missing or different although no delta had brought them."""


RECONCILE_COLUMNS = {
    "records_deleted": "bigint NOT NULL DEFAULT 0",
    "reconcile_source_rows": "bigint",
    "reconcile_live_before": "bigint",
    "reconcile_retired": "bigint",
    "reconcile_drift": "bigint",
}
"""Columns added to a history table made before reconciliation was measured."""


@dataclass
class StreamRun:
    """A stream's row in the history, while the run goes on."""

    row_id: int
    started: float = field(default_factory=time.monotonic)


class SyncHistory:
    """Writes the history rows of one run."""

    def __init__(self, config: t.Mapping[str, t.Any], source: str, configuration: dict) -> None:
        self.schema = identifier(str(config["history_schema"]))
        self.source = source
        self.configuration = configuration
        self.run_id = str(uuid.uuid4())
        self.meltano_run_id = os.environ.get("MELTANO_RUN_ID")
        self.connection = connect(config)
        self.connection.autocommit = True
        self._create_tables()
        self._mark_abandoned()

    @property
    def table(self) -> str:
        return qualified(self.schema, "sync_history")

    def _create_tables(self) -> None:
        create_history_tables(self.connection, self.schema)

    def _mark_abandoned(self) -> None:
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET status = 'failed', end_time = now(), "
                "error_message = %s WHERE crm_source = %s AND status = 'running' "
                "AND run_id <> %s",
                (ABANDONED, self.source, self.run_id),
            )

    def start(self, stream: str, endpoint: str) -> StreamRun:
        """A `running` row for a stream that starts."""
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {self.table} (run_id, meltano_run_id, crm_source, sync_type, "
                "endpoint, start_time, status, configuration) "
                "VALUES (%s, %s, %s, %s, %s, now(), 'running', %s) RETURNING id",
                (
                    self.run_id,
                    self.meltano_run_id,
                    self.source,
                    stream,
                    endpoint,
                    psycopg2.extras.Json(self.configuration),
                ),
            )
            return StreamRun(cursor.fetchone()[0])

    def finish(
        self,
        run: StreamRun,
        counts: StreamCounts,
        *,
        error: str | None,
        bookmark: t.Any,
    ) -> str:
        """Complete a stream's row; returns its status."""
        status = "failed" if error else "partial" if counts.failed else "success"
        seconds = time.monotonic() - run.started
        metrics = {
            "duration_seconds": round(seconds, 3),
            "records_per_second": round(counts.processed / seconds, 1) if seconds else None,
            "success_rate": round((counts.processed - counts.failed) / counts.processed, 6)
            if counts.processed
            else None,
            "records_unchanged": counts.unchanged,
        }
        found = counts.reconciled
        with self.connection.cursor() as cursor:
            cursor.execute(
                f"UPDATE {self.table} SET end_time = now(), status = %s, "
                "records_processed = %s, records_created = %s, records_updated = %s, "
                "records_failed = %s, records_deleted = %s, error_message = %s, "
                "performance_metrics = %s, final_bookmark = %s, reconcile_source_rows = %s, "
                "reconcile_live_before = %s, reconcile_retired = %s, reconcile_drift = %s "
                "WHERE id = %s",
                (
                    status,
                    counts.processed,
                    counts.created,
                    counts.updated,
                    counts.failed,
                    counts.deleted,
                    error,
                    psycopg2.extras.Json(metrics),
                    psycopg2.extras.Json(bookmark) if bookmark is not None else None,
                    found.source_rows if found else None,
                    found.live_before if found else None,
                    found.retired if found else None,
                    found.drift if found else None,
                    run.row_id,
                ),
            )
        return status

    def quarantine(self, rejected: t.Sequence[tuple[str, str, str, int | None]]) -> None:
        """Store rejected records: (stream, record as JSON text, error, input line)."""
        with self.connection.cursor() as cursor:
            psycopg2.extras.execute_values(
                cursor,
                f"INSERT INTO {qualified(self.schema, 'rejected_records')} "
                "(run_id, crm_source, stream, record, error, input_line) VALUES %s",
                [(self.run_id, self.source, *row) for row in rejected],
                template="(%s, %s, %s, %s::jsonb, %s, %s)",
            )

    def close(self) -> None:
        self.connection.close()


def create_history_tables(connection: t.Any, schema: str) -> None:
    """The history and quarantine tables, where missing (on an autocommit connection)."""
    table = qualified(schema, "sync_history")
    with connection.cursor() as cursor:
        cursor.execute("BEGIN")
        # Two targets starting at once must not race to create the same tables.
        cursor.execute("SELECT pg_advisory_xact_lock(hashtext('target-warehouse history'))")
        cursor.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cursor.execute(
            f"""CREATE TABLE IF NOT EXISTS {table} (
                id bigserial PRIMARY KEY,
                run_id uuid NOT NULL,
                meltano_run_id text,
                crm_source text NOT NULL,
                sync_type text NOT NULL,
                endpoint text,
                start_time timestamptz NOT NULL,
                end_time timestamptz,
                status text NOT NULL
                    CHECK (status IN ('running', 'success', 'failed', 'partial')),
                records_processed bigint NOT NULL DEFAULT 0,
                records_created bigint NOT NULL DEFAULT 0,
                records_updated bigint NOT NULL DEFAULT 0,
                records_failed bigint NOT NULL DEFAULT 0,
                error_message text,
                configuration jsonb,
                performance_metrics jsonb,
                final_bookmark jsonb
            )"""
        )
        # Checked first: ALTER TABLE locks the table even when the column is there.
        cursor.execute(
            "SELECT attname FROM pg_attribute WHERE attrelid = to_regclass(%s) AND attnum > 0",
            (table,),
        )
        present = {row[0] for row in cursor.fetchall()}
        for column, kind in RECONCILE_COLUMNS.items():
            if column not in present:
                cursor.execute(f"ALTER TABLE {table} ADD COLUMN {column} {kind}")
        cursor.execute(
            f"CREATE INDEX IF NOT EXISTS sync_history_by_stream ON {table} "
            "(crm_source, sync_type, start_time DESC)"
        )
        cursor.execute(
            f"""CREATE TABLE IF NOT EXISTS {qualified(schema, "rejected_records")} (
                id bigserial PRIMARY KEY,
                run_id uuid NOT NULL,
                crm_source text NOT NULL,
                stream text NOT NULL,
                record jsonb,
                error text NOT NULL,
                input_line bigint,
                rejected_at timestamptz NOT NULL DEFAULT now()
            )"""
        )
        cursor.execute("COMMIT")


def mark_pipeline_failed(
    config: t.Mapping[str, t.Any],
    meltano_run_id: str,
    source: str,
    error: str,
    streams: t.Mapping[str, str] | None = None,
) -> int:
    """A pipeline that failed (its tap refused a key, was killed, …) leaves rows the target
    completed as `success`: every row of the Meltano run is marked `failed` with the
    pipeline's one-line error, or, when the target wrote none, one `(pipeline)` row says
    so. When the tap named the `streams` that failed (stream → reason) while it synced the
    others, only those are marked, each with its reason (a row is added for a stream the
    target never saw), and the others keep their status. Returns the rows marked."""
    connection = connect(config)
    connection.autocommit = True
    schema = identifier(str(config["history_schema"]))
    table = qualified(schema, "sync_history")
    try:
        create_history_tables(connection, schema)
        with connection.cursor() as cursor:
            if streams:
                return sum(
                    _mark_stream_failed(cursor, table, meltano_run_id, source, stream, reason)
                    for stream, reason in streams.items()
                )
            cursor.execute(
                f"UPDATE {table} SET status = 'failed', end_time = coalesce(end_time, now()), "
                "error_message = coalesce(error_message, %s) "
                "WHERE meltano_run_id = %s AND status <> 'failed'",
                (error, meltano_run_id),
            )
            marked = cursor.rowcount
            cursor.execute(f"SELECT 1 FROM {table} WHERE meltano_run_id = %s", (meltano_run_id,))
            if cursor.fetchone() is None:
                _insert_failed(cursor, table, meltano_run_id, source, "(pipeline)", error)
                marked = 1
    finally:
        connection.close()
    return marked


def _mark_stream_failed(
    cursor: t.Any, table: str, meltano_run_id: str, source: str, stream: str, reason: str
) -> int:
    """Mark the run's rows of one stream failed with its reason, or add one."""
    cursor.execute(
        f"UPDATE {table} SET status = 'failed', end_time = coalesce(end_time, now()), "
        "error_message = %s WHERE meltano_run_id = %s AND sync_type = %s",
        (reason, meltano_run_id, stream),
    )
    if cursor.rowcount:
        return int(cursor.rowcount)
    _insert_failed(cursor, table, meltano_run_id, source, stream, reason)
    return 1


def _insert_failed(
    cursor: t.Any, table: str, meltano_run_id: str, source: str, stream: str, error: str
) -> None:
    cursor.execute(
        f"INSERT INTO {table} (run_id, meltano_run_id, crm_source, sync_type, "
        "start_time, end_time, status, error_message) "
        "VALUES (%s, %s, %s, %s, now(), now(), 'failed', %s)",
        (str(uuid.uuid4()), meltano_run_id, source, stream, error),
    )


_JSON = msgspec.json.Encoder(decimal_format="number")


def record_json(record: t.Any) -> str:
    """A rejected record as JSON text for a jsonb column: exact numbers, NaN and Infinity
    spelt as text (JSON has neither), NUL characters kept as the text `\\u0000`."""

    def plain(value: t.Any) -> t.Any:
        # Replaced in each string, not in the JSON text: there, a backslash the record
        # really holds before `u0000` would be taken for the escape, and turned into one.
        if isinstance(value, str):
            return value.replace("\x00", "\\u0000")
        if isinstance(value, float) and not math.isfinite(value):
            return str(value)
        if isinstance(value, dict):
            return {plain(str(k)): plain(v) for k, v in value.items()}
        if isinstance(value, list):
            return [plain(v) for v in value]
        return value

    return _JSON.encode(plain(record)).decode()


def run_rows(
    settings: t.Mapping[str, t.Any], meltano_run_id: str, since: datetime.datetime
) -> list[dict[str, t.Any]]:
    """The rows of a Meltano run (started since `since`), the newest per stream."""
    return _newest_per_stream(
        settings, "meltano_run_id = %s AND start_time >= %s", (meltano_run_id, since)
    )


def last_passes(settings: t.Mapping[str, t.Any], source: str) -> list[dict[str, t.Any]]:
    """Per stream of a source, the row of its latest completed reconciliation pass."""
    return _newest_per_stream(
        settings, "crm_source = %s AND reconcile_drift IS NOT NULL", (source,)
    )


def _newest_per_stream(
    settings: t.Mapping[str, t.Any], condition: str, values: tuple
) -> list[dict[str, t.Any]]:
    table = qualified(identifier(str(settings["history_schema"])), "sync_history")
    connection = connect(settings)
    try:
        with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL AS present", (table,))
            if not cursor.fetchone()["present"]:
                return []
            cursor.execute(
                f"SELECT DISTINCT ON (crm_source, sync_type) * FROM {table} "
                f"WHERE {condition} ORDER BY crm_source, sync_type, start_time DESC",
                values,
            )
            return [dict(row) for row in cursor.fetchall()]
    finally:
        connection.close()
