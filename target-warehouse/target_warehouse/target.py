"""target-warehouse: the Singer target that loads the suite's streams into Postgres."""

from __future__ import annotations

import copy
import functools
import logging
import sys
import time
import typing as t

import psycopg2
from singer_sdk import Target
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from singer_sdk.metrics import get_metrics_logger
from singer_sdk.plugin_base import _ConfigInput
from suite_common.settings import unknown_settings

from target_warehouse import reconciliation
from target_warehouse.connection import connect
from target_warehouse.errors import (
    BadInputError,
    InvalidRecordError,
    WarehouseError,
    postgres_reason,
)
from target_warehouse.history import (
    StreamCounts,
    StreamRun,
    SyncHistory,
    run_configuration,
    source_name,
)
from target_warehouse.loading import shadow_table_name, swap_in
from target_warehouse.naming import qualified
from target_warehouse.reader import NumberedSingerReader
from target_warehouse.settings import CONFIG_SCHEMA
from target_warehouse.sinks import WarehouseSink
from target_warehouse.validation import unknown_types


class TargetWarehouse(Target):
    """Loads Singer streams into Postgres with COPY and set-based upserts."""

    name = "target-warehouse"
    default_sink_class = WarehouseSink
    message_reader_class = NumberedSingerReader
    capabilities: t.ClassVar = [
        PluginCapabilities.ABOUT,
        PluginCapabilities.STREAM_MAPS,
        PluginCapabilities.FLATTENING,
        PluginCapabilities.ACTIVATE_VERSION,
        TargetCapabilities.VALIDATE_RECORDS,
        TargetCapabilities.SOFT_DELETE,
        TargetCapabilities.HARD_DELETE,
        TargetCapabilities.TARGET_SCHEMA,
    ]

    config_jsonschema = CONFIG_SCHEMA

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        for text in unknown_settings(self.config, self.config_jsonschema["properties"]):
            self.logger.warning("%s", text)
        metrics = get_metrics_logger()
        if metrics.getEffectiveLevel() > logging.DEBUG:  # METRIC lines only when debugging
            metrics.setLevel(logging.WARNING)
        self._rows_since_flush = 0
        self._last_flush = time.monotonic()
        self._overwrite_shadows: dict[str, tuple[str, str, str]] = {}
        self._held_state: dict | None = None
        self._emitted_state: dict | None = None
        self._stream_runs: dict[str, StreamRun] = {}
        self._ddl: dict[str, list[str]] = {}
        self._started = time.monotonic()
        t.cast(NumberedSingerReader, self.message_reader).suite_callbacks[
            reconciliation.MESSAGE_TYPE
        ] = self._process_reconcile_message

    # Sync history ---------------------------------------------------------------------------

    @property
    def dry_run(self) -> bool:
        return bool(self.config.get("dry_run"))

    @functools.cached_property
    def history(self) -> SyncHistory | None:
        """The run's history writer; none in a dry run or with sync_history off."""
        if self.dry_run or not self.config.get("sync_history", True):
            return None
        secrets = {
            name
            for name, schema in self.config_jsonschema["properties"].items()
            if schema.get("secret")
        }
        config = self.config
        return SyncHistory(config, source_name(config), run_configuration(config, secrets))

    def _start_history(self, stream_name: str) -> None:
        """A `running` row for each sink of a stream the first time its SCHEMA arrives."""
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            alias = stream_map.stream_alias
            sink = self._sinks_active.get(alias)
            if sink is None or alias in self._stream_runs or self.history is None:
                continue
            sink = t.cast(WarehouseSink, sink)
            endpoint = f"{sink.schema_name}.{sink.table_name}"
            self._stream_runs[alias] = self.history.start(alias, endpoint)

    def store_rejected(self, rejected: list[tuple[str, str, str, int | None]]) -> None:
        """Keep quarantined records (committed before any later state is emitted)."""
        if self.history is not None:
            self.history.quarantine(rejected)

    def note_ddl(self, stream_name: str, statements: list[str]) -> None:
        """Dry run: DDL a stream's table would need."""
        if statements:
            self._ddl.setdefault(stream_name, []).extend(statements)

    def _counts(self, sink: WarehouseSink) -> StreamCounts:
        totals = sink.totals
        return StreamCounts(
            processed=sink.received,
            created=totals.created,
            updated=totals.updated,
            unchanged=totals.unchanged,
            failed=sink.rejected_total,
        )

    def _finish_history(self, error: str | None) -> None:
        """Complete every stream's row: with the final bookmark, or failed with `error`."""
        if self.history is None:
            return
        bookmarks = (self._emitted_state or {}).get("bookmarks") or {}
        for alias, run in list(self._stream_runs.items()):
            sink = t.cast(WarehouseSink, self._sinks_active.get(alias))
            counts = self._counts(sink) if sink is not None else StreamCounts()
            self.history.finish(run, counts, error=error, bookmark=bookmarks.get(alias))
            del self._stream_runs[alias]

    def record_failure(self, message: str) -> None:
        """The run failed: its unfinished rows say so (when the warehouse still answers)."""
        try:
            self._finish_history(message)
        except (WarehouseError, psycopg2.Error) as exc:
            self.logger.warning(
                "Could not record the failure in the sync history (%s); the next run marks "
                "this run's rows failed",
                postgres_reason(exc),
            )

    # Messages -----------------------------------------------------------------------------

    def _assert_line_requires(self, message_dict: dict, requires: set[str]) -> None:
        missing = sorted(requires - set(message_dict))
        if missing:
            kind = message_dict.get("type", "message")
            raise BadInputError(
                f"{kind} message lacks {', '.join(missing)}",
                fix="the tap must send complete Singer messages",
                stream=message_dict.get("stream") if "stream" not in missing else None,
            )

    def _sink_for(self, alias: str) -> WarehouseSink:
        sink = self._sinks_active.get(alias)
        if sink is None:
            raise BadInputError(
                "RECORD arrived before the stream's SCHEMA",
                fix="the tap must send a SCHEMA message before the stream's first record",
                stream=alias,
            )
        return t.cast(WarehouseSink, sink)

    def _process_record_message(self, message_dict: dict) -> None:
        """Validate, encode and buffer one record; drain its sink when the batch is full.

        The SDK's generic path does the same with several calls per record that a loader of
        millions of rows feels; this one keeps the SDK's stream maps and counters.
        """
        if "record" not in message_dict or "stream" not in message_dict:
            self._assert_line_requires(message_dict, requires={"stream", "record"})
        stream_name = message_dict["stream"]
        raw = message_dict["record"]
        if not isinstance(raw, dict):
            raise BadInputError(
                "RECORD's record is not a JSON object",
                fix="the tap must send each record as a JSON object",
                stream=stream_name,
            )
        stream_maps = self.mapper.stream_maps.get(stream_name)
        if stream_maps is None:
            self._sink_for(stream_name)
            return
        only_map = len(stream_maps) == 1
        for stream_map in stream_maps:
            # A lone map may change the message's own record: nothing reads it afterwards.
            record = stream_map.transform(raw if only_map else copy.copy(raw))
            if record is None:
                continue
            sink = self._sink_for(stream_map.stream_alias)
            sink.received += 1
            try:
                sink.add_record(record, message_dict)
            except InvalidRecordError as exc:
                if self.config.get("on_invalid_record") == "fail":
                    raise
                sink.reject(record, exc, self.message_reader.line_number)
            if sink.current_size >= sink._max_rows:
                self.drain_one(sink)
        self._rows_since_flush += 1
        if self._rows_since_flush % 1000 == 0:
            self._handle_max_record_age()

    def _process_schema_message(self, message_dict: dict) -> None:
        """Commit a stream's buffered rows before its schema changes, then evolve the table."""
        self._assert_line_requires(message_dict, requires={"stream", "schema"})
        stream_name = message_dict["stream"]
        schema = message_dict["schema"]
        keys = message_dict.get("key_properties") or []
        if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
            raise BadInputError(
                "SCHEMA message lacks properties (an object of property schemas)",
                fix="the tap must send a JSON schema with properties",
                stream=str(stream_name),
            )
        unknown = unknown_types(schema["properties"])
        if unknown:
            raise BadInputError(
                f"SCHEMA gives property '{unknown[0]}' a type JSON schema does not have",
                fix="use null, boolean, integer, number, string, object or array",
                stream=str(stream_name),
            )
        if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
            raise BadInputError(
                "key_properties must be a list of property names",
                fix="correct the tap's key_properties",
                stream=str(stream_name),
            )
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            sink = self._sinks_active.get(stream_map.stream_alias)
            if sink is not None and sink.original_schema != message_dict["schema"]:
                self.drain_one(sink)
                t.cast(WarehouseSink, sink).wait_for_load()
        try:
            super()._process_schema_message(message_dict)
        except WarehouseError as exc:
            exc.stream = exc.stream or stream_name
            raise
        self._start_history(stream_name)

    def _process_state_message(self, message_dict: dict) -> None:
        """Remember the state; commit and emit it when enough rows or time have passed."""
        super()._process_state_message(message_dict)
        elapsed = time.monotonic() - self._last_flush
        if (
            self._rows_since_flush >= self.config["state_flush_max_rows"]
            or elapsed >= self.config["state_flush_max_seconds"]
        ):
            self.drain_all()

    def _process_activate_version_message(self, message_dict: dict) -> None:
        """Load the stream's buffered rows first so the new version's rows are all in."""
        self._assert_line_requires(message_dict, requires={"stream", "version"})
        if message_dict["stream"] not in self.mapper.stream_maps:
            raise BadInputError(
                "ACTIVATE_VERSION arrived before the stream's SCHEMA",
                fix="the tap must send a SCHEMA message before the stream's first message",
                stream=message_dict["stream"],
            )
        for stream_map in self.mapper.stream_maps.get(message_dict["stream"], []):
            sink = self._sinks_active.get(stream_map.stream_alias)
            if sink is not None:
                self.drain_one(sink)
        super()._process_activate_version_message(message_dict)

    def _process_reconcile_message(self, message_dict: dict) -> None:
        """RECONCILE begin: remember the keys loaded from now on; end: load what is
        buffered, then retire the window's rows that were not received (see
        reconciliation). Both happen before any later state is emitted."""
        self._assert_line_requires(message_dict, requires={"stream", "phase"})
        stream_name = message_dict["stream"]
        if stream_name not in self.mapper.stream_maps:
            raise BadInputError(
                "RECONCILE arrived before the stream's SCHEMA",
                fix="the tap must send a SCHEMA message before the stream's first message",
                stream=str(stream_name),
            )
        window = reconciliation.parse(message_dict)
        for stream_map in self.mapper.stream_maps[stream_name]:
            sink = self._sinks_active.get(stream_map.stream_alias)
            if sink is None:
                continue
            sink = t.cast(WarehouseSink, sink)
            self.drain_one(sink)
            if window is None:
                sink.begin_reconciliation()
            else:
                sink.reconcile(window)

    def _process_batch_message(self, message_dict: dict) -> None:
        raise BadInputError(
            "BATCH messages are not supported",
            fix="run the tap without batch_config so it sends RECORD messages",
            stream=message_dict.get("stream"),
        )

    # State --------------------------------------------------------------------------------

    def _write_state_message(self, state: dict) -> None:
        """Emit state only when every row before it is committed and visible.

        drain_all() calls this after all sinks committed. While an overwrite table is still
        being built beside the live one, its rows are committed but not yet visible, so the
        state is held until the swap at the end of the run.
        """
        self.wait_for_loads()
        self._rows_since_flush = 0
        self._last_flush = time.monotonic()
        if self.dry_run:  # nothing was written, so no bookmark may move
            return
        if self._overwrite_shadows:
            self._held_state = state
            return
        if state != self._emitted_state:
            super()._write_state_message(state)
            self._emitted_state = state

    def wait_for_loads(self) -> None:
        """Block until every stream's batch in flight is committed."""
        for sink in [*self._sinks_to_clear, *self._sinks_active.values()]:
            t.cast(WarehouseSink, sink).wait_for_load()

    # Overwrite ----------------------------------------------------------------------------

    def overwrite_shadow(self, sink: WarehouseSink, table: str) -> str:
        """The shadow table an overwrite stream loads into; dropped and recreated once a run."""
        shadow = shadow_table_name(table)
        if sink.stream_name not in self._overwrite_shadows and not self.dry_run:
            with connect(self.config) as connection, connection.cursor() as cursor:
                cursor.execute(f"DROP TABLE IF EXISTS {qualified(sink.schema_name, shadow)}")
            connection.close()
            self._overwrite_shadows[sink.stream_name] = (sink.schema_name, shadow, table)
        return shadow

    def _swap_overwritten_tables(self) -> None:
        if not self._overwrite_shadows or self.dry_run:
            return
        with connect(self.config) as connection, connection.cursor() as cursor:
            for schema, shadow, table in self._overwrite_shadows.values():
                swap_in(cursor, schema, shadow, table)
        connection.close()
        self._overwrite_shadows.clear()

    def process_endofpipe(self) -> None:
        """Commit everything, swap overwritten tables in, emit the final state, then
        complete the sync history and log the run's summary."""
        self.drain_all()
        self.wait_for_loads()
        self._swap_overwritten_tables()
        if self._held_state is not None and self._latest_state is None:
            self._latest_state = self._held_state
        super().process_endofpipe()
        self._finish_history(None)
        self._log_summary()

    def _log_summary(self) -> None:
        """Per stream: created, updated, unchanged, deleted, failed (quarantined) and records
        per second."""
        seconds = max(time.monotonic() - self._started, 1e-6)
        verb = "would be " if self.dry_run else ""
        for name, sink in self._sinks_active.items():
            sink = t.cast(WarehouseSink, sink)
            counts = self._counts(sink)
            nul = sink.stats.nul_characters_removed
            self.logger.info(
                "Summary%s %s: %d %screated, %d %supdated, %d unchanged, %d deleted, "
                "%d failed, %.0f records/s%s",
                " (dry run)" if self.dry_run else "",
                name,
                counts.created,
                verb,
                counts.updated,
                verb,
                counts.unchanged,
                sink.totals.deleted,
                counts.failed,
                counts.processed / seconds,
                f", {nul} NUL characters removed" if nul else "",
            )
        for name, statements in self._ddl.items():
            for statement in statements:
                self.logger.info("Dry run %s: would run %s", name, " ".join(statement.split()))

    # Command line -------------------------------------------------------------------------

    def listen_committing_on_error(self, file_input: t.IO | None) -> None:
        """Listen; on bad input, first commit the valid rows before it and emit their state."""
        try:
            self.listen(file_input)
        except BadInputError as error:
            try:
                self.drain_all()
                self.wait_for_loads()
            except (WarehouseError, psycopg2.Error) as exc:
                self.logger.warning("Could not commit rows before the bad input: %s", exc)
            self.record_failure(str(error))
            raise
        except WarehouseError as error:
            self.record_failure(str(error))
            raise
        except psycopg2.Error as error:
            self.record_failure(f"Postgres error: {postgres_reason(error)}")
            raise
        except Exception as error:
            self.record_failure(f"{type(error).__name__}: {error}")
            raise

    @classmethod
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: _ConfigInput | None = None,
        file_input: t.IO[str] | None = None,
    ) -> None:
        """Run the target; a problem the user can fix ends it with one line, no traceback."""
        if about:
            cls.print_about(about_format)
            sys.exit(0)
        cls.print_version(print_fn=cls.logger.info)
        config = config or _ConfigInput()
        try:
            target = cls(
                config=config.config, validate_config=True, parse_env_config=config.parse_env
            )
            target.listen_committing_on_error(file_input)
        except ConfigValidationError as exc:
            problems = "; ".join(exc.errors) or str(exc)
            _fail(f"invalid settings: {problems}. Fix: correct them (--about lists every one)")
        except WarehouseError as exc:
            _fail(str(exc))
        except psycopg2.Error as exc:
            _fail(
                f"Postgres error: {postgres_reason(exc)}. Fix: check the warehouse and run again."
            )


def _fail(message: str) -> t.NoReturn:
    sys.stderr.write(f"target-warehouse: error: {message}\n")
    sys.stderr.flush()
    sys.exit(1)
