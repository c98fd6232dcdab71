"""Record validation against the stream's JSON schema, fused with encoding where it can be.

jsonschema (the SDK default) dominates a target's CPU time, and even compiled validators
walk every property of every record a second time. Most properties of a tap's schema say
only which JSON types they admit (and a format). For those, the check is one type lookup
done right before the value is encoded. Properties with further rules (nested schemas, enum,
pattern, bounds, lengths) get a fastjsonschema validator compiled for that property alone,
and a schema with record-level rules (`required`, closed `additionalProperties`, …) is
validated whole. The result is the same verdict as full validation at a fraction of the cost.
String formats are checked by the date-time, date and time encoders, not here.
"""

from __future__ import annotations

import decimal
import typing as t

import fastjsonschema

from target_warehouse.errors import BadInputError, InvalidRecordError, InvalidValueError

Check = t.Callable[[t.Any], t.Any]

_JSON_TYPE_OF = {
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    decimal.Decimal: "number",
    dict: "object",
    list: "array",
}
# Keywords that say nothing a type lookup does not already check.
_TYPE_ONLY_KEYWORDS = frozenset(
    {"type", "format", "description", "title", "default", "examples", "$comment", "x-sql-datatype"}
)
_RECORD_KEYWORDS = frozenset({"type", "properties", "description", "title", "$schema", "$id"})


def _compile(schema: dict[str, t.Any], stream: str) -> Check:
    try:
        return fastjsonschema.compile(schema, use_default=False, use_formats=False)
    except fastjsonschema.JsonSchemaDefinitionException as exc:
        raise BadInputError(
            f"the SCHEMA message is not a valid JSON schema ({exc})",
            fix="correct the tap's schema for this stream",
            stream=stream,
        ) from None


def _allowed_types(schema: dict[str, t.Any]) -> frozenset[str] | None:
    declared = schema.get("type")
    if declared is None:
        return None
    return frozenset([declared] if isinstance(declared, str) else declared)


JSON_TYPES = frozenset({"null", "boolean", "integer", "number", "string", "object", "array"})


def unknown_types(properties: dict[str, t.Any]) -> list[str]:
    """Paths of properties (nested ones as `a.b`) whose `type` names something JSON schema
    does not have, e.g. "no-such-type": such a schema cannot describe any record."""
    found = []
    for name, schema in properties.items():
        if not isinstance(schema, dict):
            continue
        declared = schema.get("type")
        names = [declared] if isinstance(declared, str) else declared or []
        if not all(isinstance(n, str) and n in JSON_TYPES for n in names):
            found.append(name)
        nested = schema.get("properties")
        if isinstance(nested, dict):
            found.extend(f"{name}.{path}" for path in unknown_types(nested))
    return found


def non_null_types(schema: dict[str, t.Any]) -> frozenset[str] | None:
    """The JSON types a property admits besides null (None: any type)."""
    allowed = _allowed_types(schema)
    return None if allowed is None else allowed - {"null"}


def has_rules_beyond_type(schema: dict[str, t.Any]) -> bool:
    """Whether the property's schema says more than which types (and format) it admits."""
    return not set(schema) <= _TYPE_ONLY_KEYWORDS


def property_check(schema: dict[str, t.Any], stream: str) -> Check | None:
    """A check for one non-null value of a property, or None when anything goes."""
    if has_rules_beyond_type(schema):
        return _rules_check(_compile(schema, stream))
    allowed = _allowed_types(schema)
    if allowed is None:
        return None

    def check_type(value: t.Any) -> None:
        kind = _JSON_TYPE_OF.get(type(value))
        if kind not in allowed and not _number_fits(kind, value, allowed):
            raise InvalidValueError(f"must be {' or '.join(sorted(allowed))}, got {kind}")

    return check_type


def _explain(exc: fastjsonschema.JsonSchemaValueException) -> tuple[str, str]:
    """Where a value broke the schema (".a.b", "" for the value itself) and which rule."""
    return exc.name.removeprefix("data"), exc.message.removeprefix(exc.name).strip()


def _rules_check(rules: Check) -> Check:
    """The compiled property schema (types included), its failure as one short reason."""

    def check_rules(value: t.Any) -> None:
        try:
            rules(value)
        except fastjsonschema.JsonSchemaValueException as exc:
            where, rule = _explain(exc)
            raise InvalidValueError(f"{where} {rule}".strip()) from None

    return check_rules


def _number_fits(kind: str | None, value: t.Any, allowed: frozenset[str]) -> bool:
    """JSON schema: every integer is a number, and 2.0 is an integer."""
    if kind == "integer":
        return "number" in allowed
    return kind == "number" and "integer" in allowed and _is_integral(value)


def _is_integral(value: t.Any) -> bool:
    return isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral()


def nullable(schema: dict[str, t.Any]) -> bool:
    """Whether null is a valid value for the property."""
    allowed = _allowed_types(schema)
    if allowed is None:
        alternatives = schema.get("anyOf") or schema.get("oneOf")
        return not alternatives or any(nullable(a) for a in alternatives)
    return "null" in allowed


def record_check(schema: dict[str, t.Any], stream: str) -> Check | None:
    """A check of the record-level rules (required, closed properties, …), None without any."""
    if set(schema) <= _RECORD_KEYWORDS:
        return None
    rules = _compile(schema, stream)

    def check_record(record: dict[str, t.Any]) -> None:
        try:
            rules(record)
        except fastjsonschema.JsonSchemaValueException as exc:
            where, rule = _explain(exc)
            raise InvalidRecordError(
                f"field '{where.lstrip('.') or 'record'}' {rule}",
                fix="correct the value in the source or the stream's schema",
                stream=stream,
            ) from None

    return check_record
