"""This run's rows in the sync history (`sync_history`): one `running` row per stream when
its first SCHEMA arrives, completed at the end with what its sink counted and the bookmark
the target last emitted, or marked failed with the error that stopped the run.

The target calls `start` and `finish`; what a row says of a sink (`stream_counts`) is
here, and so is the run's summary in the log, which reports the same counts.
"""

from __future__ import annotations

import functools
import logging
import typing as t

import psycopg2

from target_warehouse.errors import WarehouseError, postgres_reason
from target_warehouse.sync_history import (
    Reconciled,
    StreamCounts,
    StreamRun,
    SyncHistory,
    run_configuration,
    source_name,
)

if t.TYPE_CHECKING:
    from target_warehouse.sinks import WarehouseSink

SinkOf = t.Callable[[str], "WarehouseSink | None"]
"""The sink of a stream alias, if it has one."""


def stream_counts(sink: WarehouseSink) -> StreamCounts:
    """What a stream's row records: records received, what Postgres counted, the
    quarantined records and the drift its reconciliation pass repaired."""
    totals = sink.totals
    repair, drift = sink.repair, sink.drift_found
    return StreamCounts(
        processed=sink.received,
        created=totals.created,
        updated=totals.updated,
        unchanged=totals.unchanged,
        failed=sink.rejected_total,
        deleted=totals.deleted,
        reconciled=Reconciled(repair.listed, repair.live_before, repair.retired, drift)
        if repair is not None and drift is not None
        else None,
    )


class SyncRun:
    """The sync history rows of one run of the target (see the module docstring)."""

    def __init__(
        self,
        config: t.Mapping[str, t.Any],
        secret_settings: t.Collection[str],
        *,
        dry_run: bool,
        logger: logging.Logger,
    ) -> None:
        self.config = config
        self.secret_settings = secret_settings
        self.dry_run = dry_run
        self.logger = logger
        self._rows: dict[str, StreamRun] = {}

    @functools.cached_property
    def history(self) -> SyncHistory | None:
        """The history writer, made on first use; none in a dry run or with sync_history
        off."""
        if self.dry_run or not self.config["sync_history"]:
            return None
        configuration = run_configuration(self.config, self.secret_settings)
        return SyncHistory(self.config, source_name(self.config), configuration)

    def start(self, sink: WarehouseSink) -> None:
        """A `running` row for the sink's stream, unless it has one in this run."""
        alias = sink.stream_name
        if alias in self._rows or self.history is None:
            return
        endpoint = f"{sink.schema_name}.{sink.table_name}"
        self._rows[alias] = self.history.start(alias, endpoint)

    def finish(self, sink_of: SinkOf, bookmarks: t.Mapping[str, t.Any], error: str | None) -> None:
        """Complete every stream's row: with its counts and final bookmark, or failed with
        `error`."""
        if self.history is None:
            return
        for alias, row in list(self._rows.items()):
            sink = sink_of(alias)
            counts = stream_counts(sink) if sink is not None else StreamCounts()
            self.history.finish(row, counts, error=error, bookmark=bookmarks.get(alias))
            del self._rows[alias]

    def fail(self, sink_of: SinkOf, bookmarks: t.Mapping[str, t.Any], error: str) -> None:
        """The run failed: its unfinished rows say so, when the warehouse still answers
        (else the next run of the source marks them failed)."""
        try:
            self.finish(sink_of, bookmarks, error)
        except (WarehouseError, psycopg2.Error) as exc:
            self.logger.warning(
                "Could not record the failure in the sync history (%s); the next run marks "
                "this run's rows failed",
                postgres_reason(exc),
            )


def log_summary(
    logger: logging.Logger,
    sinks: t.Mapping[str, WarehouseSink],
    seconds: float,
    *,
    dry_run: bool,
) -> None:
    """Per stream: created, updated, unchanged, deleted, failed (quarantined) and records
    per second; the same counts its history row records."""
    verb = "would be " if dry_run else ""
    for name, sink in sinks.items():
        counts = stream_counts(sink)
        nul = sink.stats.nul_characters_removed
        logger.info(
            "Summary%s %s: %d %screated, %d %supdated, %d unchanged, %d deleted, "
            "%d failed, %.0f records/s%s",
            " (dry run)" if dry_run else "",
            name,
            counts.created,
            verb,
            counts.updated,
            verb,
            counts.unchanged,
            counts.deleted,
            counts.failed,
            counts.processed / max(seconds, 1e-6),
            f", {nul} NUL characters removed" if nul else "",
        )
