"""target-warehouse: the Singer target that loads the suite's streams into Postgres."""

from __future__ import annotations

import copy
import time
import typing as t

import psycopg2
from singer_sdk.exceptions import ConfigValidationError
from singer_sdk.helpers.capabilities import PluginCapabilities, TargetCapabilities
from suite_common.settings import InvalidSettingsError, check_at_start

from target_warehouse import message_checks as checks
from target_warehouse import reconciliation
from target_warehouse.errors import (
    BadInputError,
    ConfigurationError,
    LoadError,
    WarehouseError,
    postgres_reason,
)
from target_warehouse.load_run import LoadRun
from target_warehouse.reader import NumberedSingerReader
from target_warehouse.sdk_adapter import TargetAdapter
from target_warehouse.settings import CONFIG_SCHEMA
from target_warehouse.sinks import WarehouseSink
from target_warehouse.state_gate import StateGate
from target_warehouse.sync_run import SyncRun, log_summary


class TargetWarehouse(TargetAdapter):
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
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            raise InvalidSettingsError(exc) from None
        check_at_start(self)  # unknown settings named; METRIC lines only when debugging
        self.dry_run = bool(self.config.get("dry_run"))
        self.state_gate = StateGate(
            self.config["state_flush_max_rows"],
            self.config["state_flush_max_seconds"],
            dry_run=self.dry_run,
        )
        secrets = {
            name
            for name, schema in self.config_jsonschema["properties"].items()
            if schema.get("secret")
        }
        self.sync_run = SyncRun(self.config, secrets, dry_run=self.dry_run, logger=self.logger)
        self.load_run = LoadRun(self.config, lambda: self.sync_run.history, dry_run=self.dry_run)
        """Overwrite tables, dry-run DDL and the quarantine of this run (see load_run)."""
        self._early_activations: dict[str, dict] = {}
        """ACTIVATE_VERSION messages of streams whose SCHEMA has not come yet."""
        self._started = time.monotonic()
        self._table_streams: dict[tuple[str, str], str] = {}
        """(schema, table) → the stream that loads into it in this run."""
        t.cast(NumberedSingerReader, self.message_reader).suite_callbacks[
            reconciliation.MESSAGE_TYPE
        ] = self.handle_reconcile_message

    def claim_table(self, schema: str, table: str, stream: str) -> None:
        """One stream per table in a run: two streams that would land in one table (`a-users`
        and `b-users` both name `users`) are refused in one line that names both."""
        owner = self._table_streams.setdefault((schema, table), stream)
        if owner != stream:
            raise ConfigurationError(
                f"streams '{owner}' and '{stream}' would both load into {schema}.{table} (a "
                "stream named <schema>-<table> loads into <table>)",
                fix=f'rename one with a stream map, e.g. stream_maps: {{"{stream}": '
                '{"__alias__": "<another name>"}}, or select only one of them',
                stream=stream,
            )

    def sink_of(self, alias: str) -> WarehouseSink | None:
        """The active sink of a stream alias, if it has one."""
        return t.cast("WarehouseSink | None", self.active_sink(alias))

    # Messages -----------------------------------------------------------------------------

    def require_fields(self, message_dict: dict, requires: set[str]) -> None:
        """The SDK's own check of a message (STATE's value, …), refused in one line."""
        checks.require_fields(message_dict, requires)

    def _sink_for(self, alias: str) -> WarehouseSink:
        sink = self.active_sink(alias)
        if sink is None:
            raise checks.record_before_schema(alias)
        return t.cast(WarehouseSink, sink)

    def handle_record_message(self, message_dict: dict) -> None:
        """Validate, encode and buffer one record; drain its sink when the batch is full.

        The SDK's generic path does the same with several calls per record that a loader of
        millions of rows feels; this one keeps the SDK's stream maps and counters.
        """
        checks.check_record(message_dict)
        stream_name = message_dict["stream"]
        raw = message_dict["record"]
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
            line = t.cast(NumberedSingerReader, self.message_reader).line_number
            if sink.accept(record, message_dict, line):
                self.drain_one(sink)
        if self.state_gate.count_row():
            self.check_max_record_age()

    def handle_schema_message(self, message_dict: dict) -> None:
        """Commit a stream's buffered rows before its schema changes, then evolve the table."""
        checks.check_schema(message_dict)
        stream_name = message_dict["stream"]
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            sink = self.active_sink(stream_map.stream_alias)
            if sink is not None and sink.original_schema != message_dict["schema"]:
                self.drain_one(sink)
                t.cast(WarehouseSink, sink).wait_for_load()
        pending = self._pending_activations(stream_name)
        try:
            self.sdk_handle_schema_message(message_dict)
        except WarehouseError as exc:
            exc.stream = exc.stream or stream_name
            raise
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            sink = self.sink_of(stream_map.stream_alias)
            if sink is not None:
                self.sync_run.start(sink)
        self._carry_activations(stream_name, pending)
        early = self._early_activations.pop(stream_name, None)
        if early is not None:
            self.handle_activate_version_message(early)

    def _pending_activations(self, stream_name: str) -> dict[str, int]:
        """Versions a stream's sinks still wait to activate (a new SCHEMA makes new sinks)."""
        found = {}
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            sink = self.active_sink(stream_map.stream_alias)
            pending = getattr(sink, "pending_activation", None)
            if pending is not None:
                found[stream_map.stream_alias] = pending
        return found

    def _carry_activations(self, stream_name: str, pending: dict[str, int]) -> None:
        for stream_map in self.mapper.stream_maps.get(stream_name, []):
            sink = self.active_sink(stream_map.stream_alias)
            version = pending.get(stream_map.stream_alias)
            if sink is not None and version is not None:
                t.cast(WarehouseSink, sink).pending_activation = version

    def handle_state_message(self, message_dict: dict) -> None:
        """Remember the state; commit and emit it when enough rows or time have passed."""
        self.sdk_handle_state_message(message_dict)
        if self.state_gate.flush_due():
            self.drain_all()

    def handle_activate_version_message(self, message_dict: dict) -> None:
        """Load the stream's buffered rows first so the new version's rows are all in.
        One that comes before its stream's SCHEMA (tap-mysql sends it so) is kept until the
        SCHEMA arrives."""
        checks.require_fields(message_dict, {"stream", "version"})
        if message_dict["stream"] not in self.mapper.stream_maps:
            self._early_activations[str(message_dict["stream"])] = message_dict
            return
        for stream_map in self.mapper.stream_maps.get(message_dict["stream"], []):
            sink = self.active_sink(stream_map.stream_alias)
            if sink is not None:
                self.drain_one(sink)
        self.sdk_handle_activate_version_message(message_dict)

    def handle_reconcile_message(self, message_dict: dict) -> None:
        """RECONCILE begin: remember the keys loaded from now on; end: load what is
        buffered, then retire the window's rows that were not received (see
        reconciliation). Both happen before any later state is emitted."""
        checks.require_fields(message_dict, {"stream", "phase"})
        checks.check_known_stream(message_dict, self.mapper.stream_maps)
        stream_name = message_dict["stream"]
        window = reconciliation.parse(message_dict)
        for stream_map in self.mapper.stream_maps[stream_name]:
            sink = self.active_sink(stream_map.stream_alias)
            if sink is None:
                continue
            sink = t.cast(WarehouseSink, sink)
            self.drain_one(sink)
            if window is None:
                sink.begin_reconciliation()
            else:
                sink.reconcile(window)

    def handle_batch_message(self, message_dict: dict) -> None:
        raise checks.batch_refused(message_dict)

    # State --------------------------------------------------------------------------------

    def emit_state(self, state: dict) -> None:
        """drain_all() calls this after every sink committed: emit what the gate releases."""
        self.wait_for_loads()
        released = self.state_gate.release(state, tables_hidden=bool(self.load_run.shadows))
        if released is not None:
            self.sdk_emit_state(released)

    def wait_for_loads(self) -> None:
        """Block until every stream's batch in flight is committed."""
        for sink in [*self.retired_sinks, *self.active_sinks.values()]:
            t.cast(WarehouseSink, sink).wait_for_load()

    def process_endofpipe(self) -> None:
        """Commit everything, swap overwritten tables in, emit the final state, then
        complete the sync history and log the run's summary."""
        self.drain_all()
        self.wait_for_loads()
        self._finish_activations()
        self.load_run.swap_overwritten_tables()
        self.latest_state = self.state_gate.final(self.latest_state)
        super().process_endofpipe()
        self.sync_run.finish(self.sink_of, self.state_gate.bookmarks, None)
        sinks = {name: t.cast(WarehouseSink, sink) for name, sink in self.active_sinks.items()}
        log_summary(self.logger, sinks, time.monotonic() - self._started, dry_run=self.dry_run)
        for name, statements in self.load_run.ddl.items():
            for statement in statements:
                self.logger.info("Dry run %s: would run %s", name, " ".join(statement.split()))

    def _finish_activations(self) -> None:
        """The input ended: versions announced before their records retire older rows;
        an announcement for a stream that never got a SCHEMA is ignored, with a warning."""
        for sink in self.active_sinks.values():
            t.cast(WarehouseSink, sink).finish_activation()
        for stream, message in self._early_activations.items():
            self.logger.warning(
                "ACTIVATE_VERSION %s for stream '%s' is ignored: no SCHEMA message for the "
                "stream followed it",
                message.get("version"),
                stream,
            )
        self._early_activations.clear()

    # Command line -------------------------------------------------------------------------

    def listen_to(self, file_input: t.IO | None = None) -> None:
        """Listen; on bad input, first commit the valid rows before it and emit their
        state. A failure is recorded in the run's history rows; a Postgres error is
        reported as one line (suite-common's `run_cli` prints it)."""
        try:
            super().listen_to(file_input)
        except BadInputError as error:
            try:
                self.drain_all()
                self.wait_for_loads()
            except (WarehouseError, psycopg2.Error) as exc:
                self.logger.warning("Could not commit rows before the bad input: %s", exc)
            self._record_failure(str(error))
            raise
        except WarehouseError as error:
            self._record_failure(str(error))
            raise
        except psycopg2.Error as error:
            problem = f"Postgres error: {postgres_reason(error)}"
            self._record_failure(problem)
            raise LoadError(problem, fix="check the warehouse and run again") from None
        except Exception as error:
            self._record_failure(f"{type(error).__name__}: {error}")
            raise

    def _record_failure(self, message: str) -> None:
        self.sync_run.fail(self.sink_of, self.state_gate.bookmarks, message)
