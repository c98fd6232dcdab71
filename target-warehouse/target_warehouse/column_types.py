"""JSON-schema types to Postgres column types, and how a column widens without loss.

Every column type is one of a small lattice. A union of JSON types, or a schema that changed
between runs, resolves to the narrowest member that can hold every value exactly:
bigint widens to numeric, date to timestamptz, scalars that disagree to text, and anything
mixed with an object or array to jsonb. Nothing ever narrows, so no value is ever cut.
"""

from __future__ import annotations

import typing as t

BIGINT = "bigint"
NUMERIC = "numeric"
TEXT = "text"
BOOLEAN = "boolean"
TIMESTAMPTZ = "timestamptz"
DATE = "date"
TIME = "time"
JSONB = "jsonb"

ALL_TYPES = (BIGINT, NUMERIC, TEXT, BOOLEAN, TIMESTAMPTZ, DATE, TIME, JSONB)

# How Postgres spells our types in the catalog (format_type output).
CATALOG_NAMES = {
    "bigint": BIGINT,
    "numeric": NUMERIC,
    "text": TEXT,
    "boolean": BOOLEAN,
    "timestamp with time zone": TIMESTAMPTZ,
    "date": DATE,
    "time without time zone": TIME,
    "jsonb": JSONB,
}

_STRING_FORMATS = {"date-time": TIMESTAMPTZ, "date": DATE, "time": TIME}
_WIDER_PAIRS = {
    frozenset({BIGINT, NUMERIC}): NUMERIC,
    frozenset({DATE, TIMESTAMPTZ}): TIMESTAMPTZ,
}


def widen(current: str | None, other: str | None) -> str | None:
    """The narrowest type that holds every value of both types (None means no type yet)."""
    if current is None or current == other:
        return other
    if other is None:
        return current
    if JSONB in (current, other):
        return JSONB
    return _WIDER_PAIRS.get(frozenset({current, other}), TEXT)


def _json_types(schema: dict[str, t.Any]) -> list[str]:
    declared = schema.get("type")
    if declared is None:
        return []
    return [declared] if isinstance(declared, str) else list(declared)


def _single_type(json_type: str, schema: dict[str, t.Any]) -> str | None:
    if json_type == "null":
        return None
    if json_type == "string":
        return _STRING_FORMATS.get(schema.get("format", ""), TEXT)
    return {
        "integer": BIGINT,
        "number": NUMERIC,
        "boolean": BOOLEAN,
        "object": JSONB,
        "array": JSONB,
    }.get(json_type, JSONB)


def column_type(schema: dict[str, t.Any]) -> str:
    """Postgres type for one property's JSON schema (jsonb when the schema says nothing)."""
    resolved: str | None = None
    alternatives = schema.get("anyOf") or schema.get("oneOf") or []
    for alternative in alternatives:
        resolved = widen(resolved, column_type_or_none(alternative))
    for json_type in _json_types(schema):
        resolved = widen(resolved, _single_type(json_type, schema))
    if resolved is None and not alternatives and not _json_types(schema):
        return JSONB
    return resolved or TEXT


def column_type_or_none(schema: dict[str, t.Any]) -> str | None:
    """Like `column_type`, but None for a schema that only admits null."""
    if _json_types(schema) == ["null"]:
        return None
    return column_type(schema)


def conversion(column_sql: str, to_type: str) -> str:
    """USING expression that converts a column's values to the wider type losslessly."""
    if to_type == JSONB:
        return f"to_jsonb({column_sql})"
    return f"{column_sql}::{to_type}"
