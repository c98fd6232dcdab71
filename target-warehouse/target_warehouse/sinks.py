"""The stream sink: validate, encode and buffer records; load each batch in one transaction."""

from __future__ import annotations

import typing as t
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg2
from psycopg2 import sql
from singer_sdk import Target
from singer_sdk.sinks import BatchSink

from target_warehouse import dependent_views, load_methods, loading, reconciliation, sync_history
from target_warehouse.connection import connect
from target_warehouse.copy_encoding import EncodingStats
from target_warehouse.errors import InvalidRecordError, LoadError, postgres_reason
from target_warehouse.load_run import RunServices
from target_warehouse.naming import identifier, stream_table
from target_warehouse.row_encoding import RowEncoder
from target_warehouse.table_schema import (
    TableLayout,
    desired_layout,
    lock_schema_ddl,
    read_existing,
    retyped_columns,
    type_change,
)

VERSION_PROPERTIES = {
    "_sdc_table_version": {"type": ["null", "integer"]},
    "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
}


class WarehouseSink(BatchSink):
    """Loads one stream into its Postgres table, the way its load method says
    (`load_methods`): the sink buffers, batches and counts; the method decides the table's
    shape, how a batch merges, and what a version or a reconciliation may retire."""

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        if not isinstance(target, RunServices):
            raise TypeError(f"{type(target).__name__} lacks what a WarehouseSink needs")
        self.target: RunServices = target
        super().__init__(target, stream_name, schema, key_properties)
        self.schema_name = identifier(self.config["default_target_schema"])
        """The Postgres schema this stream loads into."""
        self.table_name = identifier(stream_table(stream_name))
        """The table this stream's rows end up in (after any overwrite swap):
        `<schema>-<table>` loads into `<table>` (naming.stream_table)."""
        self.method = load_methods.for_stream(
            self.config, stream_name, self.schema_name, self.table_name
        )
        self.dry_run = bool(self.config.get("dry_run"))
        self._max_rows = self.max_size
        self.stats = EncodingStats()
        self.totals = loading.BatchResult()
        self._rows: list[str] = []
        self._batch_keys: set[t.Any] = set()
        self._batch_duplicates = 0
        self._batch_deletes = 0
        self._versions_seen: set[int] = set()
        self._activations: Counter[int] = Counter()
        self.pending_activation: int | None = None
        """A version announced before its records: older rows are retired when the
        stream's input ends (`finish_activation`)."""
        self._tracks_versions = self.include_sdc_metadata_properties
        self._load_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=stream_name)
        self._pending_load: Future | None = None
        self.received = 0
        """Records that reached this sink, valid or not."""
        self.rejected: list[tuple[str, str, str, int | None]] = []
        """Quarantined records not yet stored: (stream, record JSON, error, input line)."""
        self.rejected_total = 0
        self._retyped: dict[str, str] = {}
        """Columns the table's DDL changes the type of (see dependent_views)."""
        self.pending_ddl: list[str] = []
        """Dry run: the DDL the table needs, run in each batch's rolled-back transaction."""
        self.remembering_keys = False
        """After RECONCILE begin: every key loaded is remembered for the pass's end."""
        self.not_reconciled: str | None = None
        """Why RECONCILE begin was refused (and logged): the ends then retire nothing."""
        self.repair: reconciliation.Repair | None = None
        """What the RECONCILE ends of this stream found; None until one was applied."""
        self._written_before_pass = 0
        self.target.claim_table(self.schema_name, self.table_name, self.stream_name)
        self._connection = connect(self.config)
        self.layout, self.loader, self.encoder, self._copy_directly = self._prepare_table()

    def get_validator(self) -> None:
        """None: validation is part of encoding each row (see row_encoding)."""
        return None

    # Table setup --------------------------------------------------------------------------

    def _prepare_table(
        self,
    ) -> tuple[TableLayout, loading.TableLoader, RowEncoder, bool]:
        """Create or evolve the table so this schema fits. Returns its layout, its loader,
        the row encoder, and whether batches may be COPYed straight in (the table is new or
        empty: a first or full load)."""
        method = self.method
        table = method.load_table(self.target.load_run)
        with self._connection.cursor() as cursor:
            lock_schema_ddl(cursor, self.schema_name)
            existing = read_existing(cursor, self.schema_name, table)
            layout = desired_layout(
                self.schema_name,
                table,
                self.schema["properties"],
                method.table_keys(self.key_properties),
                existing,
                versioned=method.keeps_history,
            )
            statements = method.table_ddl(cursor, layout, existing)
            self._retyped = retyped_columns(layout, existing)
            if self.dry_run:
                self.pending_ddl = statements
                self.target.load_run.note_ddl(self.stream_name, statements)
            else:
                self._apply_ddl(cursor, layout, statements)
        self._connection.commit()
        copy_directly = not self.dry_run and (existing is None or self._is_empty(table))
        if existing is not None:
            layout.columns = {**existing.column_types, **layout.columns}
        hard_delete = method.hard_deletes(self.config)
        loader = loading.TableLoader(self._connection, layout, hard_delete=hard_delete)
        encoder = RowEncoder(
            self.stream_name,
            self.schema,
            layout,
            self.key_properties,
            stats=self.stats,
            validate=self.validate_schema,
            sync_started_at=self.sync_started_at,
            valid_from=method.keeps_history,
        )
        return layout, loader, encoder, copy_directly

    def _refit_table(self) -> None:
        """The schema changed within the stream (version or deletion columns added)."""
        self.layout, self.loader, self.encoder, self._copy_directly = self._prepare_table()

    def _apply_ddl(self, cursor: t.Any, layout: TableLayout, statements: list[str]) -> None:
        """The table's DDL. Where a column changes type, the views that read the table
        (dbt's models) are set aside meanwhile: Postgres refuses the change under them."""
        if not self._retyped:
            for statement in statements:
                cursor.execute(statement)
            return
        change = type_change(self._retyped)
        with dependent_views.set_aside(
            cursor,
            layout.qualified_name,
            change=change,
            remade=self.method.views_remade(layout),
            stream=self.stream_name,
        ):
            for statement in statements:
                cursor.execute(statement)

    def _is_empty(self, table: str) -> bool:
        with self._connection.cursor() as cursor:
            relation = sql.Identifier(self.schema_name, table)
            cursor.execute(sql.SQL("SELECT NOT EXISTS (SELECT FROM {})").format(relation))
            empty = bool(cursor.fetchone()[0])
        self._connection.commit()
        return empty

    # Records ------------------------------------------------------------------------------

    @property
    def current_size(self) -> int:
        """Rows (and quarantined records) waiting in the current batch."""
        return len(self._rows) + len(self.rejected)

    def accept(self, record: dict, message: dict, line: int | None) -> bool:
        """Take one record: encoded into the batch, or quarantined when it breaks the
        schema (`on_invalid_record: fail` raises instead). True when the batch is full."""
        self.received += 1
        try:
            self.add_record(record, message)
        except InvalidRecordError as exc:
            if self.config.get("on_invalid_record") == "fail":
                raise
            self.reject(record, exc, line)
        return self.current_size >= self._max_rows

    def reject(self, record: dict, error: InvalidRecordError, line: int | None) -> None:
        """Quarantine a record that breaks the schema; it is stored with the next batch."""
        self.rejected.append(
            (self.stream_name, sync_history.record_json(record), error.problem, line)
        )
        self.rejected_total += 1

    def add_record(self, record: dict, message: dict) -> None:
        """Validate and encode one record, with its metadata, into the current batch."""
        row, key = self.encoder.encode(record, message)
        if key is not None:
            if key in self._batch_keys:
                self._batch_duplicates += 1
            self._batch_keys.add(key)
        if record.get("_sdc_deleted_at") is not None:
            self._batch_deletes += 1
        version = message.get("version")
        if version is not None:
            self._versions_seen.add(version)
        self._rows.append(row)

    def process_record(self, record: dict, context: dict) -> None:
        """The SDK's per-record hook: encode a record that arrived without its message."""
        self.add_record(record, {})

    # Batches ------------------------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        """Hand the buffered rows to this stream's loader thread and go on reading.

        Postgres loads one batch while Python encodes the next, so both cores work. At most
        one batch per stream is in flight; `wait_for_load` is called before state is
        emitted, so state still advances only after the rows before it are committed.
        """
        if self.rejected:
            self.target.load_run.quarantine(self.rejected)
            self.rejected = []
        rows, duplicates = self._rows, self._batch_duplicates
        # A delete in a history table ends a version: never COPYed straight in.
        duplicates += self._batch_deletes if self.method.keeps_history else 0
        # With hard_delete a deleted record removes its row: it goes through the merge.
        must_merge = bool(self._batch_deletes) and self.loader.hard_delete
        self._rows, self._batch_keys, self._batch_duplicates = [], set(), 0
        self._batch_deletes = 0
        if not rows:
            return
        self.tally_record_read(len(rows))
        self.record_counter_metric.increment(len(rows))
        widenings = dict(self.stats.columns_to_widen)
        self.stats.columns_to_widen.clear()
        self.wait_for_load()
        self._pending_load = self._load_thread.submit(
            self._load_batch, rows, duplicates, widenings, must_merge
        )

    def wait_for_load(self) -> None:
        """Block until the batch in flight is committed; re-raise its error if it failed."""
        pending, self._pending_load = self._pending_load, None
        if pending is not None:
            pending.result()

    def _load_batch(
        self, rows: list[str], duplicates: int, widenings: dict[str, str], must_merge: bool
    ) -> None:
        direct = self._copy_directly and not duplicates and not must_merge
        try:
            result = self._load(rows, duplicates > 0, widenings, direct=direct)
        except psycopg2.Error as exc:
            self._connection.rollback()
            if direct and loading.is_key_conflict(exc):
                self._copy_directly = False
            elif not loading.is_duplicate_in_batch(exc):
                raise self._load_error(exc, len(rows)) from None
            result = self._load(rows, True, widenings, direct=False)
        if not self.method.keeps_history:  # history keeps a key's repeats as versions
            result.unchanged = max(result.unchanged - duplicates, 0)
            self.tally_duplicate_merged(duplicates)
        self.totals += result

    def _load(
        self, rows: list[str], has_duplicates: bool, widenings: dict[str, str], *, direct: bool
    ) -> loading.BatchResult:
        """One transaction: widen what outgrew its type, then COPY or upsert, then commit.

        `direct` COPYs straight into a table that was empty when the stream started (a first
        or full load): no staging, no merge. A key that turns out to repeat across batches
        makes the COPY fail whole; the caller then redoes the batch as an upsert.
        """
        with self._connection.cursor() as cursor:
            if self.pending_ddl:
                self._apply_ddl(cursor, self.layout, self.pending_ddl)
            self.loader.widen_columns(cursor, widenings)
        if direct or not self.layout.key_columns:
            result = self.loader.append(self.encoder.columns, rows)
        else:
            result = self.method.load(
                self.loader,
                self.encoder.columns,
                rows,
                has_duplicates=has_duplicates,
                remember_keys=self.remembering_keys,
            )
        if self.dry_run:  # counted by Postgres, then undone: a dry run writes nothing
            self._connection.rollback()
        else:
            self._connection.commit()
        return result

    def _load_error(self, exc: psycopg2.Error, row_count: int) -> LoadError:
        reason = postgres_reason(exc)
        return LoadError(
            f"Postgres refused a batch of {row_count} rows for table "
            f"{self.layout.schema}.{self.layout.table}: {reason}; nothing of this batch "
            "was written and state was not advanced",
            fix="correct the cause and run again; the sync resumes from the last state",
            stream=self.stream_name,
        )

    # ACTIVATE_VERSION -----------------------------------------------------------------------

    def activate_version(self, new_version: int) -> None:
        """Retire rows of older versions once the new version's records are all loaded.

        Taps announce a full-table sync's version before its first record (singer-sdk
        taps, once), after its last (singer-io's and pipelinewise's tap-mysql), or both.
        An announcement after the version's records, or a second one, retires the older
        rows at once; a first one waits for the stream's input to end (`finish_activation`),
        so a version with no records at all (the source table became empty) retires every
        older row too, and a run that fails midway retires nothing.
        """
        self.wait_for_load()
        self._activations[new_version] += 1
        if not self.method.retires_on_activate:
            return
        if self.dry_run:
            self.logger.info("Dry run: version %s would retire older rows", new_version)
            return
        if not self._tracks_versions:
            self._start_tracking_versions()
            if new_version in self._versions_seen:
                self.logger.warning(
                    "Stream %s: version %s was announced after its first records, which "
                    "were loaded without a version (add_record_metadata is off): no older "
                    "row is retired in this run; the next full sync retires them",
                    self.stream_name,
                    new_version,
                )
                return
        elif new_version in self._versions_seen or self._activations[new_version] > 1:
            self._retire_older_than(new_version)
            return
        if self.pending_activation is None or new_version > self.pending_activation:
            self.pending_activation = new_version

    def finish_activation(self) -> None:
        """The stream's input ended: a version still waiting retires the older rows."""
        if self.pending_activation is not None:
            self.wait_for_load()
            self._retire_older_than(self.pending_activation)

    def _retire_older_than(self, version: int) -> None:
        retired = self.loader.retire_old_versions(version)
        self._connection.commit()
        self.totals.deleted += retired
        if self.pending_activation is not None and self.pending_activation <= version:
            self.pending_activation = None
        action = self.method.retired(self.loader.hard_delete)
        self.logger.info("Version %s active: %d older rows %s", version, retired, action)

    # RECONCILE --------------------------------------------------------------------------

    def begin_reconciliation(self) -> None:
        """Remember every key loaded from now on, so `reconcile` can tell what vanished.
        A second begin (the next partition) keeps what was remembered: more keys can only
        retire less."""
        self.wait_for_load()
        if self.remembering_keys or self.not_reconciled:
            return
        self.not_reconciled = self._why_not_reconciled()
        if self.not_reconciled:
            self.logger.warning(
                "Stream %s is not reconciled: %s", self.stream_name, self.not_reconciled
            )
            return
        if "_sdc_deleted_at" not in self.layout.property_columns:
            self.schema["properties"].update(VERSION_PROPERTIES)
            self._refit_table()
        with self._connection.cursor() as cursor:
            reconciliation.create_seen_table(cursor, self.layout)
        self._connection.commit()
        self._copy_directly = False  # every batch goes through the stage, whose keys count
        self.remembering_keys = True
        self._written_before_pass = self.rows_written

    @property
    def rows_written(self) -> int:
        """Rows this stream's loads created or changed: new and updated rows, or in a
        history table new versions (a change closes one version and opens one)."""
        return self.method.rows_written(self.totals)

    @property
    def drift_found(self) -> int | None:
        """Rows the reconciliation pass had to write: missing or different in the warehouse
        although no delta had brought them. None when no RECONCILE end was applied."""
        if self.repair is None:
            return None
        return self.rows_written - self._written_before_pass

    def _why_not_reconciled(self) -> str | None:
        if self.dry_run:
            return "a dry run loads nothing, so it cannot tell what vanished"
        reason = self.method.why_not_reconciled()
        if reason:
            return reason
        if not self.layout.key_columns:
            return "the stream has no key properties"
        return None

    def reconcile(self, window: reconciliation.Window) -> None:
        """Retire the window's rows that were not received since `begin_reconciliation`."""
        self.wait_for_load()
        if self.not_reconciled:
            return
        if not self.remembering_keys:
            # Without begin nothing says which keys arrived: retiring would take everything.
            self.logger.warning(
                "Stream %s is not reconciled in %s: no RECONCILE begin came before the "
                "window's records (or the stream's schema changed since)",
                self.stream_name,
                window.describe(),
            )
            return
        missing = reconciliation.missing_properties(self.layout, window)
        if missing:
            self.logger.warning(
                "Stream %s is not reconciled in %s: the table has no column for %s",
                self.stream_name,
                window.describe(),
                ", ".join(missing),
            )
            return
        hard_delete = self.loader.hard_delete
        with self._connection.cursor() as cursor:
            found = reconciliation.retire_unseen(
                cursor, self.layout, window, hard_delete=hard_delete
            )
        self._connection.commit()
        self.totals.deleted += found.retired
        self.repair = self.repair or reconciliation.Repair()
        self.repair += found
        self.logger.info(
            "Reconciled %s in %s: %d rows no longer at the source %s (the source listed %d, "
            "%d were live before)",
            self.stream_name,
            window.describe(),
            found.retired,
            self.method.retired(hard_delete),
            found.listed,
            found.live_before,
        )

    def _start_tracking_versions(self) -> None:
        self.schema["properties"].update(VERSION_PROPERTIES)
        self._tracks_versions = True
        self._refit_table()

    def clean_up(self) -> None:
        """Finish the batch in flight, then close this stream's connection."""
        self.wait_for_load()
        self._load_thread.shutdown()
        super().clean_up()
        if not self._connection.closed:
            self._connection.close()
