"""What a pipeline run did, from the rows target-warehouse wrote into its sync history.

Every run through Dagster carries a Meltano run ID (the Dagster run's own ID), and the
target writes it into each row, so one query finds the rows of a run. A retried step runs
the pipeline again under the same ID: only rows that started after the try began count.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

import psycopg2.extras
from psycopg2 import sql
from target_warehouse.connection import connect
from target_warehouse.history import Reconciled
from target_warehouse.naming import identifier


@dataclasses.dataclass(frozen=True)
class StreamResult:
    """One stream's row of a run."""

    source: str
    stream: str
    status: str
    processed: int
    created: int
    updated: int
    unchanged: int | None
    failed: int
    seconds: float | None
    records_per_second: float | None
    bookmark: t.Any
    error: str | None
    started: datetime.datetime | None = None
    reconciled: Reconciled | None = None
    """What the run found, when it was a reconciliation pass of the stream."""

    def metadata(self) -> dict[str, t.Any]:
        """Asset materialization metadata (Dagster plots the numbers over runs)."""
        found = {
            "status": self.status,
            "records_processed": self.processed,
            "records_created": self.created,
            "records_updated": self.updated,
            "records_unchanged": self.unchanged,
            "records_failed": self.failed,
            "duration_seconds": self.seconds,
            "records_per_second": self.records_per_second,
            "final_bookmark": self.bookmark,
        }
        return {name: value for name, value in found.items() if value is not None}


def run_results(
    warehouse: t.Mapping[str, t.Any], meltano_run_id: str, since: datetime.datetime
) -> list[StreamResult]:
    """The streams of a Meltano run (rows started since `since`), newest row per stream."""
    return _newest_per_stream(
        warehouse, "meltano_run_id = %s AND start_time >= %s", (meltano_run_id, since)
    )


def last_passes(warehouse: t.Mapping[str, t.Any], source: str) -> dict[str, StreamResult]:
    """Per stream of a source, its latest completed reconciliation pass."""
    found = _newest_per_stream(
        warehouse, "crm_source = %s AND reconcile_drift IS NOT NULL", (source,)
    )
    return {result.stream: result for result in found}


def _newest_per_stream(
    warehouse: t.Mapping[str, t.Any], condition: str, values: tuple
) -> list[StreamResult]:
    table = sql.Identifier(identifier(str(warehouse["history_schema"])), "sync_history")
    connection = connect(warehouse)
    try:
        with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            present = sql.SQL("SELECT to_regclass(%s) IS NOT NULL AS present")
            cursor.execute(present, (table.as_string(cursor),))
            if not cursor.fetchone()["present"]:
                return []
            query = sql.SQL(
                "SELECT DISTINCT ON (crm_source, sync_type) * FROM {table} "
                "WHERE {condition} ORDER BY crm_source, sync_type, start_time DESC"
            ).format(table=table, condition=sql.SQL(condition))
            cursor.execute(query, values)
            return [_result(row) for row in cursor.fetchall()]
    finally:
        connection.close()


def _result(row: dict[str, t.Any]) -> StreamResult:
    metrics = row.get("performance_metrics") or {}
    return StreamResult(
        source=row["crm_source"],
        stream=row["sync_type"],
        status=row["status"],
        processed=row["records_processed"],
        created=row["records_created"],
        updated=row["records_updated"],
        unchanged=metrics.get("records_unchanged"),
        failed=row["records_failed"],
        seconds=metrics.get("duration_seconds"),
        records_per_second=metrics.get("records_per_second"),
        bookmark=row.get("final_bookmark"),
        error=row.get("error_message"),
        started=row.get("start_time"),
        reconciled=Reconciled(
            row["reconcile_source_rows"],
            row["reconcile_live_before"],
            row["reconcile_retired"],
            row["reconcile_drift"],
        )
        if row.get("reconcile_drift") is not None
        else None,
    )
