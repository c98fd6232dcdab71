"""The stream sink: validate, encode and buffer records; load each batch in one transaction."""

from __future__ import annotations

import datetime
import time
import typing as t
from collections import Counter
from concurrent.futures import Future, ThreadPoolExecutor

import psycopg2
from singer_sdk.sinks import BatchSink

from target_warehouse import loading
from target_warehouse.connection import connect
from target_warehouse.copy_encoding import (
    Encoder,
    EncodingStats,
    checking_encoder_for,
    encoder_for,
)
from target_warehouse.errors import InvalidRecordError, InvalidValueError, LoadError
from target_warehouse.naming import identifier
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

# Metadata the target itself generates: already in their column's text form.
TRUSTED_METADATA = frozenset(
    {"_sdc_received_at", "_sdc_batched_at", "_sdc_sequence", "_sdc_sync_started_at"}
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
        if existing is not None:
            layout.columns = {**existing.column_types, **layout.columns}
        self.layout = layout
        self.loader = loading.TableLoader(
            self._connection, layout, hard_delete=bool(self.config.get("hard_delete"))
        )
        self._build_encoders()

    def _build_encoders(self) -> None:
        """One function per property that checks (when validating) and encodes its value."""
        properties = self.layout.property_columns
        self._encoders = [
            (prop, self._property_encoder(prop, column)) for prop, column in properties.items()
        ]
        self._non_nullable = [
            prop
            for prop in properties
            if self.validate_schema
            and not nullable(self.schema["properties"][prop])
            and prop not in self.key_properties
        ]
        self._columns = list(properties.values())
        positions = {prop: index for index, prop in enumerate(properties)}
        self._key_positions = [positions[key] for key in self.key_properties]

    def _property_encoder(self, prop: str, column: str) -> Encoder:
        if prop in TRUSTED_METADATA:
            return str
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

    def add_record(self, record: dict, message: dict) -> None:
        """Validate and encode one record into the current batch."""
        if self.include_sdc_metadata_properties:
            self._add_sdc_metadata_to_record(record, message, {})
        elif self._tracks_versions:
            record["_sdc_table_version"] = message.get("version")
        self._check_keys(record)
        if self._validator is not None:
            self._validator.validate(record)
        self.process_record(record, {})
        self.tally_record_read()

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        """Metadata columns; the received-at stamp is computed once per second, not per row."""
        now = time.time()
        if now - getattr(self, "_stamp_time", 0.0) >= 1.0:
            self._stamp_time = now
            self._stamp_text = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            self._stamp_text = self._stamp_text.isoformat()
        record["_sdc_extracted_at"] = message.get("time_extracted")
        record["_sdc_received_at"] = self._stamp_text
        record["_sdc_batched_at"] = self._stamp_text
        record.setdefault("_sdc_deleted_at", None)
        record["_sdc_sequence"] = int(now * 1000)
        record["_sdc_table_version"] = message.get("version")
        record["_sdc_sync_started_at"] = self.sync_started_at

    def _check_keys(self, record: dict) -> None:
        for key in self.key_properties:
            if record.get(key) is None:
                raise InvalidRecordError(
                    f"key property '{key}' is missing or null",
                    fix="every record must carry a value for each key property",
                    stream=self.stream_name,
                )

    def process_record(self, record: dict, context: dict) -> None:
        """Encode the record as one CSV row and note whether its key repeats in the batch."""
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
        version = record.get("_sdc_table_version")
        if version is not None:
            self._versions_seen.add(version)
        self._rows.append(",".join(fields) + "\n")

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
        try:
            result = self._load(rows, has_duplicates=has_duplicates, widenings=widenings)
        except psycopg2.Error as exc:
            self._connection.rollback()
            if not loading.is_duplicate_in_batch(exc):
                raise self._load_error(exc, len(rows)) from None
            result = self._load(rows, has_duplicates=True, widenings=widenings)
        result.unchanged = max(result.unchanged - duplicates, 0)
        self.tally_duplicate_merged(duplicates)
        self._add_to_totals(result)

    def _load(
        self, rows: list[str], *, has_duplicates: bool, widenings: dict[str, str]
    ) -> loading.BatchResult:
        with self._connection.cursor() as cursor:
            self.loader.widen_columns(cursor, widenings)
        if self.load_method == "append-only" or not self.layout.key_columns:
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
