"""What a pipeline run did, from the rows target-warehouse wrote into its sync history.

Every run through Dagster carries a Meltano run ID (the Dagster run's own ID), and the
target writes it into each row, so one query finds the rows of a run. A retried step runs
the pipeline again under the same ID: only rows that started after the try began count.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

from target_warehouse import sync_history as ledger


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
    reconciled: ledger.Reconciled | None = None
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
    return [_result(row) for row in ledger.run_rows(warehouse, meltano_run_id, since)]


def last_passes(warehouse: t.Mapping[str, t.Any], source: str) -> dict[str, StreamResult]:
    """Per stream of a source, its latest completed reconciliation pass."""
    found = [_result(row) for row in ledger.last_passes(warehouse, source)]
    return {result.stream: result for result in found}


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
        reconciled=ledger.Reconciled(
            row["reconcile_source_rows"],
            row["reconcile_live_before"],
            row["reconcile_retired"],
            row["reconcile_drift"],
        )
        if row.get("reconcile_drift") is not None
        else None,
    )
