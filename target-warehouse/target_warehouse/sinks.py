"""The stream sink: validate, encode and buffer records; load each batch in one transaction."""

from __future__ import annotations

import typing as t
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg2
from psycopg2 import sql
from singer_sdk.sinks import BatchSink

from target_warehouse import dependent_views, loading, reconciliation, scd2_table, sync_history
from target_warehouse.connection import connect
from target_warehouse.copy_encoding import EncodingStats
from target_warehouse.errors import BadInputError, InvalidRecordError, LoadError, postgres_reason
from target_warehouse.load_run import RunServices
from target_warehouse.naming import identifier, stream_table
from target_warehouse.row_encoding import RowEncoder
from target_warehouse.table_schema import (
    TableLayout,
    desired_layout,
    lock_schema_ddl,
    plan,
    read_existing,
    retyped_columns,
    type_change,
)

VERSION_PROPERTIES = {
    "_sdc_table_version": {"type": ["null", "integer"]},
    "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
}


class WarehouseSink(BatchSink):
    """Loads one stream into its Postgres table."""

    def __init__(
        self,
        target: RunServices,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        self.target = target
        super().__init__(target, stream_name, schema, key_properties)
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
        self._connection: t.Any = None
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
        self.reconciling: str | None = None
        """After RECONCILE begin: "tracking" (keys are remembered) or "skipped" (why was
        logged)."""
        self.repair: reconciliation.Repair | None = None
        """What the RECONCILE ends of this stream found; None until one was applied."""
        self._written_before_pass = 0

    # Settings -----------------------------------------------------------------------------

    @property
    def load_method(self) -> str:
        """append-only, upsert, overwrite or history: this stream's entry in
        `load_methods`, else `load_method`."""
        chosen = (self.config.get("load_methods") or {}).get(self.stream_name)
        return str(chosen or self.config["load_method"])

    @property
    def keeps_history(self) -> bool:
        """Every version of a row is kept (SCD type 2, see scd2_table)."""
        return self.load_method == "history"

    @property
    def schema_name(self) -> str:
        """The Postgres schema this stream loads into."""
        return identifier(self.config["default_target_schema"])

    @property
    def table_name(self) -> str:
        """The table this stream's rows end up in (after any overwrite swap):
        `<schema>-<table>` loads into `<table>` (naming.stream_table)."""
        return identifier(stream_table(self.stream_name))

    @property
    def dry_run(self) -> bool:
        return bool(self.config.get("dry_run"))

    def get_validator(self) -> None:  # type: ignore[override]
        """None: validation is part of encoding each row (see row_encoding)."""
        return None

    # Table setup --------------------------------------------------------------------------

    def setup(self) -> None:
        """Claim the table for this stream, connect, then create or evolve the table so
        this schema fits."""
        self.target.claim_table(self.schema_name, self.table_name, self.stream_name)
        self._connection = connect(self.config)
        self._prepare_table()

    def _load_table_name(self) -> str:
        if self.load_method == "overwrite":
            return self.target.load_run.overwrite_shadow(
                self.stream_name, self.schema_name, self.table_name
            )
        return self.table_name

    def _prepare_table(self) -> None:
        table = self._load_table_name()
        with self._connection.cursor() as cursor:
            lock_schema_ddl(cursor, self.schema_name)
            existing = read_existing(cursor, self.schema_name, table)
            # Append-only tables keep every version of a key, so they get no primary key.
            keys = [] if self.load_method == "append-only" else self.key_properties
            layout = desired_layout(
                self.schema_name,
                table,
                self.schema["properties"],
                keys,
                existing,
                versioned=self.keeps_history,
            )
            statements = self._table_ddl(cursor, layout, existing)
            self._retyped = retyped_columns(layout, existing)
            if self.dry_run:
                self.pending_ddl = statements
                self.target.load_run.note_ddl(self.stream_name, statements)
            else:
                self._apply_ddl(cursor, layout, statements)
        self._connection.commit()
        self._copy_directly = not self.dry_run and (existing is None or self._is_empty(table))
        if existing is not None:
            layout.columns = {**existing.column_types, **layout.columns}
        self.layout = layout
        # A history table keeps what was deleted as a closed version: hard_delete is for
        # the tables that keep only the present.
        hard_delete = bool(self.config.get("hard_delete")) and not self.keeps_history
        self.loader = loading.TableLoader(self._connection, layout, hard_delete=hard_delete)
        self.encoder = RowEncoder(
            self.stream_name,
            self.schema,
            layout,
            self.key_properties,
            stats=self.stats,
            validate=self.validate_schema,
            sync_started_at=self.sync_started_at,
            valid_from=self.keeps_history,
        )
        self._max_rows = self.max_size

    def _apply_ddl(self, cursor: t.Any, layout: TableLayout, statements: list[str]) -> None:
        """The table's DDL. Where a column changes type, the views that read the table
        (dbt's models) are set aside meanwhile: Postgres refuses the change under them."""
        if not self._retyped:
            for statement in statements:
                cursor.execute(statement)
            return
        own_view = scd2_table.current_view(layout) if self.keeps_history else None
        change = type_change(self._retyped)
        with dependent_views.set_aside(
            cursor, layout.qualified_name, change=change, remade={own_view}, stream=self.stream_name
        ):
            for statement in statements:
                cursor.execute(statement)

    def _table_ddl(self, cursor: t.Any, layout: TableLayout, existing: t.Any) -> list[str]:
        """What the table needs; a history table is never loaded by another method."""
        if self.keeps_history:
            if not layout.key_columns:
                raise BadInputError(
                    "load_method history needs the stream's key properties, and it has none",
                    fix="load this stream with append-only (its load_methods entry)",
                    stream=self.stream_name,
                )
            exists = scd2_table.view_exists(cursor, layout)
            return scd2_table.statements(layout, existing, view_exists=exists)
        live = existing
        if self.load_method == "overwrite":
            live = read_existing(cursor, self.schema_name, self.table_name)
        scd2_table.refuse_other_method(live, layout, self.load_method, self.stream_name)
        return plan(layout, existing)

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
        duplicates += self._batch_deletes if self.keeps_history else 0
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
        if not self.keeps_history:  # history keeps a key's repeats as versions
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
        if direct or self.load_method == "append-only" or not self.layout.key_columns:
            result = self.loader.append(self.encoder.columns, rows)
        elif self.keeps_history:
            result = self.loader.record_versions(
                self.encoder.columns, rows, remember_keys=self.reconciling == "tracking"
            )
        else:
            result = self.loader.upsert(
                self.encoder.columns,
                rows,
                has_duplicates=has_duplicates,
                remember_keys=self.reconciling == "tracking",
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
        if self.load_method == "overwrite":
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
        action = "deleted" if self.loader.hard_delete else "marked deleted"
        action = "closed" if self.keeps_history else action
        self.logger.info("Version %s active: %d older rows %s", version, retired, action)

    # RECONCILE --------------------------------------------------------------------------

    def begin_reconciliation(self) -> None:
        """Remember every key loaded from now on, so `reconcile` can tell what vanished.
        A second begin (the next partition) keeps what was remembered: more keys can only
        retire less."""
        self.wait_for_load()
        if self.reconciling is not None:
            return
        reason = self._why_not_reconciled()
        if reason:
            self.reconciling = "skipped"
            self.logger.warning("Stream %s is not reconciled: %s", self.stream_name, reason)
            return
        if "_sdc_deleted_at" not in self.layout.property_columns:
            self.schema["properties"].update(VERSION_PROPERTIES)
            self._prepare_table()
        with self._connection.cursor() as cursor:
            reconciliation.create_seen_table(cursor, self.layout)
        self._connection.commit()
        self._copy_directly = False  # every batch goes through the stage, whose keys count
        self.reconciling = "tracking"
        self._written_before_pass = self.rows_written

    @property
    def rows_written(self) -> int:
        """Rows this stream's loads created or changed: new and updated rows, or in a
        history table new versions (a change closes one version and opens one)."""
        if self.keeps_history:
            return self.totals.created
        return self.totals.created + self.totals.updated

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
        if self.load_method not in ("upsert", "history"):
            return f"load_method {self.load_method} does not merge by key (use upsert)"
        if not self.layout.key_columns:
            return "the stream has no key properties"
        return None

    def reconcile(self, window: reconciliation.Window) -> None:
        """Retire the window's rows that were not received since `begin_reconciliation`."""
        self.wait_for_load()
        if self.reconciling is None:
            # Without begin nothing says which keys arrived: retiring would take everything.
            self.logger.warning(
                "Stream %s is not reconciled in %s: no RECONCILE begin came before the "
                "window's records (or the stream's schema changed since)",
                self.stream_name,
                window.describe(),
            )
            return
        if self.reconciling == "skipped":
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
            "closed" if self.keeps_history else "deleted" if hard_delete else "marked deleted",
            found.listed,
            found.live_before,
        )

    def _start_tracking_versions(self) -> None:
        self.schema["properties"].update(VERSION_PROPERTIES)
        self._tracks_versions = True
        self._prepare_table()

    def clean_up(self) -> None:
        """Finish the batch in flight, then close this stream's connection."""
        self.wait_for_load()
        self._load_thread.shutdown()
        super().clean_up()
        if self._connection is not None and not self._connection.closed:
            self._connection.close()
