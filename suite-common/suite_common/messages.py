"""Writing Singer messages: msgspec encoding, records buffered between STATE messages, and
RECORD messages made without the SDK's per-record walk of the selection mask.

The SDK's msgspec writer flushes stdout after every message, one system call per record
(and stdout is unbuffered altogether under PYTHONUNBUFFERED, which many schedulers set).
Records only need to reach the target before the STATE message that covers them, so they
are gathered here and written in blocks of `BLOCK_BYTES`, and every other message writes
what is gathered first. A tap that dies loses only records whose state it never emitted,
which the next run reads again.
"""

from __future__ import annotations

import datetime
import functools
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage

from suite_common.sdk_adapter import StreamHooks

BLOCK_BYTES = 256 * 1024


class BufferedRecordsWriter(MsgSpecWriter):
    """MsgSpecWriter that writes RECORD messages in blocks and flushes at every other one."""

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self._pending = bytearray()

    def write_message(self, message: Message) -> None:
        self._pending += self.format_message(message)
        if isinstance(message, RecordMessage) and len(self._pending) < BLOCK_BYTES:
            return
        sys.stdout.buffer.write(self._pending)
        sys.stdout.flush()
        self._pending.clear()


class LeanRecordMessages(StreamHooks):
    """Mixin for an SDK stream (before `StreamHooks`, whose `record_messages` it
    overrides): RECORD messages without the SDK's per-record selection walk, and with only
    the schema's properties (the SDK adds a partition's context keys, such as `pass` or
    `entity_id`, to every record of the partition).

    The SDK walks every record, nested objects included, to drop deselected properties;
    when nothing nested is deselected, dropping the deselected top-level names gives the
    same record at a fraction of the cost. Otherwise the SDK's walk runs as before.
    """

    @functools.cached_property
    def deselected_properties(self) -> tuple[str, ...] | None:
        """Top-level properties the catalog deselects; None when a nested one is deselected
        too (then the SDK's full walk is needed)."""
        mask = self.mask
        if not all(selected for crumb, selected in mask.items() if len(crumb) > 2):
            return None
        names = self.schema["properties"]
        return tuple(name for name in names if not mask[("properties", name)])

    @functools.cached_property
    def schema_property_names(self) -> frozenset[str]:
        return frozenset(self.schema["properties"])

    def record_messages(self, record: dict) -> t.Generator[RecordMessage]:
        names = self.schema_property_names
        if not names.issuperset(record):  # the SDK adds the partition's keys to records
            for name in [name for name in record if name not in names]:
                del record[name]
        deselected = self.deselected_properties
        if deselected is None:
            yield from super().record_messages(record)
            return
        for name in deselected:
            record.pop(name, None)
        for stream_map in self.stream_maps:
            mapped = stream_map.transform(record)
            if mapped is not None:
                yield RecordMessage(
                    stream=stream_map.stream_alias,
                    record=mapped,
                    version=self.stream_version,
                    time_extracted=datetime.datetime.now(datetime.timezone.utc),
                )
