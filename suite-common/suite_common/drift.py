"""`--test=schema`: what the live source sends, compared with the tap's schema.

A user runs `tap-x --config config.json --test=schema` before the first sync. The SDK writes
the SCHEMA messages; then the tap reads a sample (the first page of each stream, or the
database's columns) and logs one line per difference, so a field the source sends that the
schema lacks (the SDK would drop it), a value whose type the schema refuses (the target
would quarantine the record) or a field the schema expects that never came is seen before
any data moves. The run still exits 0: drift is information, not a failure.
"""

from __future__ import annotations

import decimal
import itertools
import logging
import typing as t

from suite_common.contracts import SampledStream
from suite_common.sdk_adapter import TapHooks

if t.TYPE_CHECKING:
    from singer_sdk import Stream, Tap

SAMPLE_RECORDS = 50


def json_type(value: t.Any) -> str:
    """The JSON type name of a parsed value."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, (float, decimal.Decimal)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, dict):
        return "object"
    if isinstance(value, list):
        return "array"
    return type(value).__name__


def allowed_types(schema: t.Mapping[str, t.Any]) -> set[str] | None:
    """The JSON types a property's schema accepts (None: any); integer fits number."""
    declared = schema.get("type")
    if declared is None:
        if "anyOf" in schema:
            found: set[str] = set()
            for option in schema["anyOf"]:
                inner = allowed_types(option)
                if inner is None:
                    return None
                found |= inner
            return found
        return None
    types = {declared} if isinstance(declared, str) else set(declared)
    if "number" in types:
        types.add("integer")
    return types


def differences(
    stream: str,
    properties: t.Mapping[str, t.Any],
    raw: list[dict],
    emitted: list[dict],
) -> tuple[list[str], list[str]]:
    """Lines on a sample against the schema's properties. Problems: fields the source sent
    that the schema lacks (in `raw`, as the source sent them) and values of a type the schema
    refuses (in `emitted`, after the tap's own conversions). Notes: fields the schema has
    that no sampled record held (often optional ones)."""
    lines = []
    sent: dict[str, t.Any] = {}
    for record in raw:
        for name, value in record.items():
            if name not in sent or sent[name] is None:
                sent[name] = value
    for name in sorted(set(sent) - set(properties)):
        lines.append(
            f"{stream}: the source sends {name} ({json_type(sent[name])}), which the schema "
            "lacks: it is not a column (REST taps keep it in _sdc_extra)"
        )
    refused: dict[str, tuple[set[str], t.Any]] = {}
    for record in emitted:
        for name, value in record.items():
            allowed = allowed_types(properties.get(name, {}))
            if allowed is not None and json_type(value) not in allowed and name not in refused:
                refused[name] = (allowed, value)
    for name, (allowed, value) in sorted(refused.items()):
        lines.append(
            f"{stream}: {name} is {json_type(value)} in the source ({str(value)[:40]!r}), the "
            f"schema says {'/'.join(sorted(allowed - {'null'}))}: such records are refused"
        )
    notes = []
    if raw:
        seen = set(sent)
        absent = [
            name
            for name in sorted(set(properties) - seen)
            if not name.startswith("_") and not _added_by_the_tap(name, seen)
        ]
        if absent:
            notes.append(f"{stream}: in the schema, in no sampled record: {', '.join(absent)}")
    return lines, notes


def _added_by_the_tap(name: str, seen: set[str]) -> bool:
    """Columns a tap adds itself (`x_e164`, `x_normalized`, `x_valid`, `account_id`) are not
    drift."""
    stem = name.rsplit("_", 1)[0]
    return stem in seen or name in ("account_id", "task_id")


def sample_stream(stream: SampledStream, context: dict | None) -> tuple[list[dict], list[dict]]:
    """The raw records of a stream's first page, and the same records as the tap emits
    them (conversions applied)."""
    raw = [dict(r) for r in itertools.islice(stream.request_records(context), SAMPLE_RECORDS)]
    emitted = [
        row for row in (stream.post_process(dict(r), context) for r in raw) if row is not None
    ]
    return raw, emitted


def first_context(
    stream: Stream, streams: t.Iterable[Stream], contexts: dict[str, dict | None]
) -> dict | None:
    """A context to sample a stream in: its first partition, or its parent's first record's
    child context."""
    parent_type = getattr(stream, "parent_stream_type", None)
    if parent_type is None:
        partitions = stream.partitions
        return dict(partitions[0]) if partitions else None
    parent = next(s for s in streams if isinstance(s, parent_type))
    parent_context = contexts.get(parent.name)
    record = next(iter(sample_stream(parent, parent_context)[1]), None)
    if record is None:
        raise LookupError(f"{parent.name} has no record to read {stream.name} for")
    return parent.get_child_context(record, parent_context)


def report_drift(tap: Tap, logger: logging.Logger) -> int:
    """Sample every stream, log each difference; returns how many were found."""
    found = 0
    contexts: dict[str, dict | None] = {}
    for stream in tap.streams.values():
        if not isinstance(stream, SampledStream):
            logger.warning("%s: not sampled (it reads no pages)", stream.name)
            continue
        try:
            context = first_context(stream, tap.streams.values(), contexts)
            contexts[stream.name] = context
            raw, emitted = sample_stream(stream, context)
        except Exception as exc:  # one stream's failure is reported, not fatal
            logger.warning("%s: not sampled (%s)", stream.name, exc)
            continue
        properties = stream.schema.get("properties", {})
        lines, notes = differences(stream.name, properties, raw, emitted)
        for line in lines:
            logger.warning("Drift: %s", line)
        for note in notes:
            logger.info("Drift (note): %s", note)
        found += len(lines)
        if not lines:
            logger.info("%s: %d sampled records fit the schema", stream.name, len(raw))
    logger.info("Schema drift check: %d difference(s)", found)
    return found


class SchemaDriftCheck(TapHooks):
    """Tap mixin: `--test=schema` writes the schemas, then reports drift (`schema_drift`)."""

    def write_stream_schemas(self) -> None:
        super().write_stream_schemas()
        self.schema_drift()

    def schema_drift(self) -> int:
        """Compare a sample of the live source with the schemas; a SQL tap overrides this."""
        return report_drift(self, self.logger)
