"""Turn one stream's records into CSV rows for its table, validating them on the way.

This is the per-record hot path of the target, so it is built once per schema: each data
property gets one function that checks its value (when `validate_records` is on) and encodes
it, and the `_sdc_*` metadata columns end every row, produced from the Singer message rather
than copied into each record. A record that breaks its schema raises `InvalidRecordError`
naming the field, before anything of it is buffered.
"""

from __future__ import annotations

import datetime
import time
import typing as t

from target_warehouse import column_types as ct
from target_warehouse.copy_encoding import Encoder, EncodingStats, encoder_for
from target_warehouse.errors import InvalidRecordError, InvalidValueError
from target_warehouse.table_schema import VALID_FROM, TableLayout
from target_warehouse.validation import (
    check_keys,
    non_nullable_properties,
    record_check,
    validating_encoder,
)

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
_FIX_VALUE = "correct the value in the source or the stream's schema"


class RowEncoder:
    """Encodes records of one stream, for the columns of one table layout."""

    def __init__(
        self,
        stream: str,
        schema: dict[str, t.Any],
        layout: TableLayout,
        key_properties: t.Sequence[str],
        *,
        stats: EncodingStats,
        validate: bool,
        sync_started_at: int,
        valid_from: bool = False,
    ) -> None:
        self.stream = stream
        self.stats = stats
        self.key_properties = list(key_properties)
        self.sync_started_at = sync_started_at
        properties = layout.property_columns
        self.metadata_props = [name for name in METADATA_ORDER if name in properties]
        data_props = [prop for prop in properties if prop not in self.metadata_props]
        self._encoders = [
            (prop, self._property_encoder(schema, layout, prop, validate)) for prop in data_props
        ]
        self._non_nullable = (
            non_nullable_properties(schema, data_props, self.key_properties) if validate else []
        )
        self._record_check = record_check(schema, stream) if validate else None
        self.columns = [properties[prop] for prop in [*data_props, *self.metadata_props]]
        # A history table's version starts when its record was extracted (else received).
        self._metadata_names = [*self.metadata_props, *([VALID_FROM] if valid_from else [])]
        self.columns += [VALID_FROM] if valid_from else []
        self._metadata_template = ",".join(f"{{{name}}}" for name in self._metadata_names)
        positions = {prop: index for index, prop in enumerate(data_props)}
        self._key_positions = [positions[key] for key in self.key_properties]
        self._encode_timestamp = encoder_for(ct.TIMESTAMPTZ, "_sdc_", stats)
        self._stamp_expires = 0.0
        self._stamp_text = ""
        self._last_timestamp: tuple[t.Any, str] = (None, "")

    def _property_encoder(
        self, schema: dict[str, t.Any], layout: TableLayout, prop: str, validate: bool
    ) -> Encoder:
        """The property's encoder, checking its values when `validate_records` is on."""
        column = layout.property_columns[prop]
        column_type = layout.columns[column]
        if not validate:
            return encoder_for(column_type, column, self.stats)
        prop_schema = schema["properties"][prop]
        return validating_encoder(prop_schema, column_type, column, self.stats, self.stream)

    def encode(self, record: dict, message: dict) -> tuple[str, t.Any]:
        """The record as one CSV line, and its key as encoded (None without a key)."""
        check_keys(record, self.key_properties, self.stream)
        if self._record_check is not None:
            self._record_check(record)
        fields = self._data_fields(record)
        key: str | tuple[str, ...] | None = None
        if self._key_positions:
            positions = self._key_positions
            if len(positions) == 1:
                key = fields[positions[0]]
            else:
                key = tuple(fields[i] for i in positions)
        if self._metadata_names:
            fields.append(self._metadata_fields(record, message))
        return ",".join(fields) + "\n", key

    def _data_fields(self, record: dict) -> list[str]:
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
                f"field '{prop}' {exc}", fix=_FIX_VALUE, stream=self.stream
            ) from None
        return fields

    def _metadata_fields(self, record: dict, message: dict) -> str:
        """The _sdc_* columns. Clock stamps are formatted once per second, not per row."""
        now = time.time()
        if now >= self._stamp_expires:
            self._stamp_expires = now + 1.0
            stamp = datetime.datetime.fromtimestamp(now, datetime.timezone.utc)
            self._stamp_text = stamp.isoformat()
        version = message.get("version")
        extracted = self._timestamp("time_extracted", message.get("time_extracted"))
        return self._metadata_template.format(
            _sdc_extracted_at=extracted,
            _sdc_valid_from=extracted or self._stamp_text,
            _sdc_received_at=self._stamp_text,
            _sdc_batched_at=self._stamp_text,
            _sdc_deleted_at=self._timestamp("_sdc_deleted_at", record.get("_sdc_deleted_at")),
            _sdc_sequence=int(now * 1000),
            _sdc_table_version="" if version is None else self._version_text(version),
            _sdc_sync_started_at=self.sync_started_at,
        )

    def _version_text(self, version: t.Any) -> str:
        if type(version) is not int:
            raise InvalidRecordError(
                f"the message's version {version!r} is not an integer",
                fix="the tap must send integer table versions",
                stream=self.stream,
            )
        return str(version)

    def _timestamp(self, name: str, value: t.Any) -> str:
        """A metadata timestamp; taps repeat the same one often, so the last one is kept."""
        if value is None:
            return ""
        if value == self._last_timestamp[0]:
            return self._last_timestamp[1]
        try:
            encoded = self._encode_timestamp(value)
        except InvalidValueError as exc:
            raise InvalidRecordError(
                f"{name} {exc}", fix="the tap must send ISO 8601 date-times", stream=self.stream
            ) from None
        self._last_timestamp = (value, encoded)
        return encoded
