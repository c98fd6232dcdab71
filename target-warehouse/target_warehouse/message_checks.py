"""What a Singer message must hold before the target acts on it: one clear refusal each.

Every check raises `BadInputError` (the reader adds the input line), so a malformed message
ends the run with one line and the rows before it stay committed.
"""

from __future__ import annotations

import typing as t

from target_warehouse.errors import BadInputError, RecordBeforeSchemaError
from target_warehouse.validation import unknown_types


def require_fields(message: dict, fields: set[str]) -> None:
    """The message has every one of `fields`."""
    missing = sorted(fields - set(message))
    if missing:
        kind = message.get("type", "message")
        raise BadInputError(
            f"{kind} message lacks {', '.join(missing)}",
            fix="the tap must send complete Singer messages",
            stream=message.get("stream") if "stream" not in missing else None,
        )


def check_record(message: dict) -> None:
    """A RECORD names its stream and holds a JSON object."""
    if "record" not in message or "stream" not in message:
        require_fields(message, {"stream", "record"})
    if not isinstance(message["record"], dict):
        raise BadInputError(
            "RECORD's record is not a JSON object",
            fix="the tap must send each record as a JSON object",
            stream=message["stream"],
        )


def check_schema(message: dict) -> None:
    """A SCHEMA holds properties of known JSON types, and its keys are property names."""
    require_fields(message, {"stream", "schema"})
    stream = str(message["stream"])
    schema = message["schema"]
    keys = message.get("key_properties") or []
    if not isinstance(schema, dict) or not isinstance(schema.get("properties"), dict):
        raise BadInputError(
            "SCHEMA message lacks properties (an object of property schemas)",
            fix="the tap must send a JSON schema with properties",
            stream=stream,
        )
    unknown = unknown_types(schema["properties"])
    if unknown:
        raise BadInputError(
            f"SCHEMA gives property '{unknown[0]}' a type JSON schema does not have",
            fix="use null, boolean, integer, number, string, object or array",
            stream=stream,
        )
    if not isinstance(keys, list) or not all(isinstance(key, str) for key in keys):
        raise BadInputError(
            "key_properties must be a list of property names",
            fix="correct the tap's key_properties",
            stream=stream,
        )


def check_known_stream(message: dict, known: t.Container[str]) -> None:
    """A message about a stream's rows came after the stream's SCHEMA."""
    if message["stream"] not in known:
        kind = message.get("type", "message")
        raise BadInputError(
            f"{kind} arrived before the stream's SCHEMA",
            fix="the tap must send a SCHEMA message before the stream's first message",
            stream=str(message["stream"]),
        )


def record_before_schema(stream: str) -> RecordBeforeSchemaError:
    """The refusal of a RECORD whose stream has no SCHEMA yet."""
    return RecordBeforeSchemaError(
        "RECORD arrived before the stream's SCHEMA",
        fix="the tap must send a SCHEMA message before the stream's first record",
        stream=stream,
    )


def batch_refused(message: dict) -> BadInputError:
    """BATCH messages are not read: the refusal says how to run the tap instead."""
    return BadInputError(
        "BATCH messages are not supported",
        fix="run the tap without batch_config so it sends RECORD messages",
        stream=message.get("stream"),
    )
