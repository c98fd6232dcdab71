"""The stream sink: validate, encode and buffer records; load each batch in one transaction."""

from __future__ import annotations

import datetime
import time
import typing as t
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg2
from singer_sdk.sinks import BatchSink

from target_warehouse import column_types as ct
from target_warehouse import loading
from target_warehouse.connection import connect
from target_warehouse.copy_encoding import (
    Encoder,
    EncodingStats,
    checking_encoder_for,
    encoder_for,
)
from target_warehouse.errors import InvalidRecordError, InvalidValueError, LoadError
from target_warehouse.naming import identifier, qualified
from target_warehouse.table_schema import (
    desired_layout,
    plan,
    read_existing,
)
from target_warehouse.validation import (
    RecordValidator,
    has_rules_beyond_type,
    non_null_types,
    nullable,
    property_check,
)

if t.TYPE_CHECKING:
    from target_warehouse.target import TargetWarehouse

# The metadata columns, in the order they end every row.
METADATA_ORDER = (
    "_sdc_extracted_at",
    "_sdc_received_at",
    "_sdc_batched_at",
    "_sdc_deleted_at",
    "_sdc_sequence",
    "_sdc_table_version",
    "_sdc_sync_started_at",
)
VERSION_PROPERTIES = {
    "_sdc_table_version": {"type": ["null", "integer"]},
    "_sdc_deleted_at": {"type": ["null", "string"], "format": "date-time"},
}


class WarehouseSink(BatchSink):
    """Loads one stream into its Postgres table."""

    def __init__(
        self,
        target: TargetWarehouse,
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
        self._has_duplicates = False
        self._batch_duplicates = 0
        self._versions_seen: set[int] = set()
        self._activations: Counter[int] = Counter()
        self._tracks_versions = self.include_sdc_metadata_properties
        self._connection: t.Any = None
        self._stamp_expires = 0.0
        self._stamp_text = ""
        self._last_timestamp_in: t.Any = None
        self._last_timestamp_out = ""
        self._encode_timestamp = encoder_for(ct.TIMESTAMPTZ, "_sdc_", self.stats)
        self._load_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix=stream_name)
        self._pending_load: Future | None = None
        self.ddl_executed: list[str] = []

    # Settings -----------------------------------------------------------------------------

    @property
    def load_method(self) -> str:
        """append-only, upsert or overwrite."""
        return str(self.config.get("load_method") or "upsert")

    @property
    def schema_name(self) -> str:
        """The Postgres schema this stream loads into."""
        return identifier(self.config.get("default_target_schema") or "public")

    @property
    def table_name(self) -> str:
        """The table this stream's rows end up in (after any overwrite swap)."""
        return identifier(self.stream_name)

    def get_validator(self) -> RecordValidator | None:  # type: ignore[override]
        """fastjsonschema-based validation, or none when `validate_records` is false."""
        if not self.validate_schema:
            return None
        return RecordValidator(self.schema, self.stream_name)

    # Table setup --------------------------------------------------------------------------

    def setup(self) -> None:
        """Connect, then create or evolve the table so this schema fits."""
        self._connection = connect(self.config)
        self._prepare_table()

    def _load_table_name(self) -> str:
        if self.load_method == "overwrite":
            return self.target.overwrite_shadow(self, self.table_name)
        return self.table_name

    def _prepare_table(self) -> None:
        table = self._load_table_name()
        with self._connection.cursor() as cursor:
            existing = read_existing(cursor, self.schema_name, table)
            # Append-only tables keep every version of a key, so they get no primary key.
            keys = [] if self.load_method == "append-only" else self.key_properties
            layout = desired_layout(
                self.schema_name, table, self.schema["properties"], keys, existing
            )
            statements = plan(layout, existing)
            for statement in statements:
                cursor.execute(statement)
        self._connection.commit()
        self.ddl_executed += statements
        self._copy_directly = existing is None or self._is_empty(table)
        if existing is not None:
            layout.columns = {**existing.column_types, **layout.columns}
        self.layout = layout
        self.loader = loading.TableLoader(
            self._connection, layout, hard_delete=bool(self.config.get("hard_delete"))
        )
        self._build_encoders()

    def _is_empty(self, table: str) -> bool:
        with self._connection.cursor() as cursor:
            cursor.execute(f"SELECT NOT EXISTS (SELECT FROM {qualified(self.schema_name, table)})")
            empty = bool(cursor.fetchone()[0])
        self._connection.commit()
        return empty

    def _build_encoders(self) -> None:
        """One function per data property that checks (when validating) and encodes it.

        Metadata columns come last in every row, produced by `_metadata_fields` from the
        message rather than copied into each record.
        """
        properties = self.layout.property_columns
        self._metadata_props = [name for name in METADATA_ORDER if name in properties]
        data_props = [prop for prop in properties if prop not in self._metadata_props]
        self._encoders = [
            (prop, self._property_encoder(prop, properties[prop])) for prop in data_props
        ]
        self._non_nullable = [
            prop
            for prop in data_props
            if self.validate_schema
            and not nullable(self.schema["properties"][prop])
            and prop not in self.key_properties
        ]
        self._columns = [properties[prop] for prop in [*data_props, *self._metadata_props]]
        self._metadata_template = ",".join("{%s}" % name for name in self._metadata_props)
        positions = {prop: index for index, prop in enumerate(data_props)}
        self._key_positions = [positions[key] for key in self.key_properties]
        self._max_rows = self.max_size

    def _property_encoder(self, prop: str, column: str) -> Encoder:
        column_type = self.layout.columns[column]
        encode = encoder_for(column_type, column, self.stats)
        prop_schema = self.schema["properties"][prop]
        if not self.validate_schema:
            return encode
        allowed = non_null_types(prop_schema)
        if allowed and not has_rules_beyond_type(prop_schema):
            checking = checking_encoder_for(column_type, column, self.stats, allowed)
            if checking is not None:
                return checking
        check = property_check(prop_schema, self.stream_name)
        if check is None:
            return encode

        def check_then_encode(value: t.Any) -> str:
            check(value)
            return encode(value)

        return check_then_encode

    # Records ------------------------------------------------------------------------------

    @property
    def current_size(self) -> int:
        """Rows waiting in the current batch."""
        return len(self._rows)

    def add_record(self, record: dict, message: dict) -> None:
        """Validate and encode one record, with its metadata, into the current batch."""
        for key in self.key_properties:
            if record.get(key) is None:
                raise InvalidRecordError(
                    f"key property '{key}' is missing or null",
                    fix="every record must carry a value for each key property",
                    stream=self.stream_name,
                )
        if self._validator is not None:
            self._validator.validate(record)
        row = self._data_fields(record)
        if self._metadata_props:
            row = (
                f"{row},{self._metadata_fields(record, message)}"
                if row
                else (self._metadata_fields(record, message))
            )
        version = message.get("version")
        if version is not None:
            self._versions_seen.add(version)
        self._rows.append(row + "\n")

    def process_record(self, record: dict, context: dict) -> None:
        """The SDK's per-record hook: encode a record that arrived without its message."""
        self.add_record(record, {})

    def _data_fields(self, record: dict) -> str:
        """The record's data columns as CSV; notes whether its key repeats in the batch."""
        fields: list[str] = []
        append = fields.append
        get = record.get
        prop = ""
        try:
            for prop, encode in self._encoders:
                value = get(prop)
                append("" if value is None else encode(value))
            for prop in self._non_nullable:
                if prop in record and record[prop] is None:
                    raise InvalidValueError("is null, which its schema does not allow")
        except InvalidValueError as exc:
            raise InvalidRecordError(
                f"field '{prop}' {exc}",
                fix="correct the value in the source or the stream's schema",
                stream=self.stream_name,
            ) from None
        if self._key_positions:
            positions = self._key_positions
            key = (
                fields[positions[0]] if len(positions) == 1 else tuple(fields[i] for i in positions)
            )
            if key in self._batch_keys:
                self._has_duplicates = True
                self._batch_duplicates += 1
            self._batch_keys.add(key)
        return ",".join(fields)

    def _metadata_fields(self, record: dict, message: dict) -> str:
        """The _sdc_* columns as CSV. Clock stamps are formatted once per second, not per row."""
        now = time.time()
        if now >= self._stamp_expires:
            self._stamp_expires = now + 1.0
            stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc).isoformat()
            self._stamp_text = stamp
        extracted = message.get("time_extracted")
        deleted = record.get("_sdc_deleted_at")
        version = message.get("version")
        return self._metadata_template.format(
            _sdc_extracted_at=self._metadata_timestamp("time_extracted", extracted),
            _sdc_received_at=self._stamp_text,
            _sdc_batched_at=self._stamp_text,
            _sdc_deleted_at=self._metadata_timestamp("_sdc_deleted_at", deleted),
            _sdc_sequence=int(now * 1000),
            _sdc_table_version="" if version is None else self._version_text(version),
            _sdc_sync_started_at=self.sync_started_at,
        )

    def _version_text(self, version: t.Any) -> str:
        if type(version) is not int:
            raise InvalidRecordError(
                f"the message's version {version!r} is not an integer",
                fix="the tap must send integer table versions",
                stream=self.stream_name,
            )
        return str(version)

    def _metadata_timestamp(self, name: str, value: t.Any) -> str:
        if value is None:
            return ""
        if value == self._last_timestamp_in:
            return self._last_timestamp_out
        try:
            encoded = self._encode_timestamp(value)
        except InvalidValueError as exc:
            raise InvalidRecordError(
                f"{name} {exc}",
                fix="the tap must send ISO 8601 date-times",
                stream=self.stream_name,
            ) from None
        self._last_timestamp_in, self._last_timestamp_out = value, encoded
        return encoded

    # Batches ------------------------------------------------------------------------------

    def process_batch(self, context: dict) -> None:
        """Hand the buffered rows to this stream's loader thread and go on reading.

        Postgres loads one batch while Python encodes the next, so both cores work. At most
        one batch per stream is in flight; `wait_for_load` is called before state is
        emitted, so state still advances only after the rows before it are committed.
        """
        rows, has_duplicates, duplicates = self._rows, self._has_duplicates, self._batch_duplicates
        self._rows, self._batch_keys, self._has_duplicates = [], set(), False
        self._batch_duplicates = 0
        if not rows:
            return
        self.tally_record_read(len(rows))
        self.record_counter_metric.increment(len(rows))
        widenings = dict(self.stats.columns_to_widen)
        self.stats.columns_to_widen.clear()
        self.wait_for_load()
        self._pending_load = self._load_thread.submit(
            self._load_batch, rows, has_duplicates, duplicates, widenings
        )

    def wait_for_load(self) -> None:
        """Block until the batch in flight is committed; re-raise its error if it failed."""
        pending, self._pending_load = self._pending_load, None
        if pending is not None:
            pending.result()

    def _load_batch(
        self, rows: list[str], has_duplicates: bool, duplicates: int, widenings: dict[str, str]
    ) -> None:
        direct = self._copy_directly and not has_duplicates
        try:
            result = self._load(rows, has_duplicates, widenings, direct=direct)
        except psycopg2.Error as exc:
            self._connection.rollback()
            if direct and loading.is_key_conflict(exc):
                self._copy_directly = False
            elif not loading.is_duplicate_in_batch(exc):
                raise self._load_error(exc, len(rows)) from None
            result = self._load(rows, True, widenings, direct=False)
        result.unchanged = max(result.unchanged - duplicates, 0)
        self.tally_duplicate_merged(duplicates)
        self._add_to_totals(result)

    def _load(
        self, rows: list[str], has_duplicates: bool, widenings: dict[str, str], *, direct: bool
    ) -> loading.BatchResult:
        """One transaction: widen what outgrew its type, then COPY or upsert, then commit.

        `direct` COPYs straight into a table that was empty when the stream started (a first
        or full load): no staging, no merge. A key that turns out to repeat across batches
        makes the COPY fail whole; the caller then redoes the batch as an upsert.
        """
        with self._connection.cursor() as cursor:
            self.loader.widen_columns(cursor, widenings)
        if direct or self.load_method == "append-only" or not self.layout.key_columns:
            result = self.loader.append(self._columns, rows)
        else:
            result = self.loader.upsert(self._columns, rows, has_duplicates=has_duplicates)
        self._connection.commit()
        return result

    def _load_error(self, exc: psycopg2.Error, row_count: int) -> LoadError:
        reason = (exc.pgerror or str(exc)).strip().splitlines()[0] if exc else "unknown error"
        return LoadError(
            f"Postgres refused a batch of {row_count} rows for table "
            f"{self.layout.schema}.{self.layout.table}: {reason}; nothing of this batch "
            "was written and state was not advanced",
            fix="correct the cause and run again; the sync resumes from the last state",
            stream=self.stream_name,
        )

    def _add_to_totals(self, result: loading.BatchResult) -> None:
        self.totals.created += result.created
        self.totals.updated += result.updated
        self.totals.unchanged += result.unchanged
        self.totals.deleted += result.deleted

    # ACTIVATE_VERSION -----------------------------------------------------------------------

    def activate_version(self, new_version: int) -> None:
        """Retire rows of older versions once the new version's records are all loaded.

        A full-table sync announces its version before its first record and again after its
        last. The first announcement only starts version tracking; rows are retired when the
        version's records were seen or the version is announced a second time.
        """
        self.wait_for_load()
        self._activations[new_version] += 1
        if self.load_method == "overwrite":
            return
        if not self._tracks_versions:
            self._start_tracking_versions()
            return
        if new_version in self._versions_seen or self._activations[new_version] > 1:
            retired = self.loader.retire_old_versions(new_version)
            self._connection.commit()
            self.totals.deleted += retired
            action = "deleted" if self.config.get("hard_delete") else "marked deleted"
            self.logger.info("Version %s active: %d older rows %s", new_version, retired, action)

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
