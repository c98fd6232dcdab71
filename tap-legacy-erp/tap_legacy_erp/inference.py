"""JSON schema properties for a 4D table the tap has no schema for, read from a sample page.

Values decide the type: booleans, integers (numbers when any sample has a fraction),
`DD!MM!YYYY` text as dates, ISO text with a time as date-times, nested collections as
arrays, other objects as objects, and other text as strings. A field that is null in every
sampled record gets an open schema (any JSON value). Every field but the key may be null.
"""

from __future__ import annotations

import re
import typing as t

from suite_common.drift import json_type

_ERP_DATE = re.compile(r"^\d{1,2}!\d{1,2}!\d{1,4}$")
_ISO_MOMENT = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d")


def sampled_properties(records: list[dict], key: t.Sequence[str]) -> dict[str, dict]:
    """Properties for the fields seen in `records`, in the order first seen."""
    kinds: dict[str, set[str]] = {}
    for record in records:
        for name, value in record.items():
            seen = kinds.setdefault(name, set())
            if value is not None:
                seen.add(_kind(value))
    return {name: _property_schema(found, required=name in key) for name, found in kinds.items()}


def _kind(value: t.Any) -> str:
    """The JSON type, refined: nested collections, ERP dates, ISO date-times."""
    kind = json_type(value)
    if kind == "object":
        inner = list(value.values())
        return "collection" if len(value) == 1 and isinstance(inner[0], list) else "object"
    if kind == "array":
        return "collection"
    if kind == "string" and _ERP_DATE.match(value):
        return "date"
    if kind == "string" and _ISO_MOMENT.match(value):
        return "date-time"
    return kind if kind in ("boolean", "integer", "number") else "string"


def _property_schema(kinds: set[str], *, required: bool) -> dict:
    if not kinds:
        return {}
    if kinds <= {"integer", "number"}:
        kind = "number" if "number" in kinds else "integer"
    elif len(kinds) == 1:
        kind = next(iter(kinds))
    else:
        kind = "string"
    schema: dict[str, t.Any] = {
        "date": {"type": "string", "format": "date"},
        "date-time": {"type": "string", "format": "date-time"},
        "collection": {"type": "array", "items": {}},
        "object": {"type": "object"},
    }.get(kind, {"type": kind})
    schema["type"] = [schema["type"]] if required else [schema["type"], "null"]
    return schema
