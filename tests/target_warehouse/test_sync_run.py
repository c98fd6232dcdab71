"""target_warehouse.sync_run: what a run's sync history rows say of each sink, and that a
failure the warehouse cannot record is warned of, never raised over the run's own error.
(The rows as a run of the target writes them: test_sync_history.)"""

from __future__ import annotations

import logging
from types import SimpleNamespace

from target_warehouse.loading import BatchResult
from target_warehouse.reconciliation import Repair
from target_warehouse.sync_history import Reconciled, StreamCounts
from target_warehouse.sync_run import SyncRun, stream_counts

LOGGER = logging.getLogger("test_sync_run")


def sink(**fields: object) -> SimpleNamespace:
    defaults: dict[str, object] = {
        "received": 7,
        "totals": BatchResult(created=3, updated=2, unchanged=1, deleted=4),
        "rejected_total": 1,
        "repair": None,
        "drift_found": None,
    }
    return SimpleNamespace(**{**defaults, **fields})


def test_a_sinks_counts_are_what_postgres_counted_and_what_was_quarantined():
    assert stream_counts(sink()) == StreamCounts(
        processed=7, created=3, updated=2, unchanged=1, failed=1, deleted=4
    )


def test_a_reconciled_sink_reports_the_drift_its_pass_repaired():
    repair = Repair(listed=10, live_before=12, retired=2)
    counts = stream_counts(sink(repair=repair, drift_found=3))
    assert counts.reconciled == Reconciled(source_rows=10, live_before=12, retired=2, drift=3)


def test_a_dry_run_or_sync_history_off_writes_no_history():
    on = {"sync_history": True, "history_schema": "h"}
    assert SyncRun(on, (), dry_run=True, logger=LOGGER).history is None
    off = {**on, "sync_history": False}
    assert SyncRun(off, (), dry_run=False, logger=LOGGER).history is None


def test_a_failure_the_warehouse_cannot_record_is_warned_of(caplog):
    unreachable = {
        "sync_history": True,
        "history_schema": "h",
        "host": "127.0.0.1",
        "port": 1,
        "user": "u",
        "password": "never-logged",
        "database": "d",
        "default_target_schema": "s",
    }
    run = SyncRun(unreachable, {"password"}, dry_run=False, logger=LOGGER)
    with caplog.at_level(logging.WARNING):
        run.fail(lambda alias: None, {}, "the run's own error")
    assert "Could not record the failure in the sync history" in caplog.text
    assert "never-logged" not in caplog.text
