"""Every validation decision of the target: records against the stream's JSON schema, fused
with encoding where it can be, and the key every record must carry.

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

from target_warehouse import column_types as ct
from target_warehouse.copy_encoding import (
    STRING_ONLY,
    Encoder,
    EncodingStats,
    describe,
    encoder_for,
)
from target_warehouse.errors import (
    BadInputError,
    InvalidRecordError,
    InvalidValueError,
    MissingKeyError,
)

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
        rules = _rules_check(_compile(without_multiples(schema), stream))
        if not declares_multiples(schema):
            return rules

        def check_rules_and_multiples(value: t.Any) -> None:
            rules(value)
            problem = multiple_of_problem(schema, value)
            if problem:
                raise InvalidValueError(problem)

        return check_rules_and_multiples
    allowed = _allowed_types(schema)
    if allowed is None:
        return None

    def check_type(value: t.Any) -> None:
        kind = _JSON_TYPE_OF.get(type(value))
        if kind not in allowed and not _number_fits(kind, value, allowed):
            raise InvalidValueError(f"must be {' or '.join(sorted(allowed))}, got {kind}")

    return check_type


def declares_multiples(schema: t.Any) -> bool:
    """Whether `multipleOf` appears anywhere in a schema."""
    if isinstance(schema, dict):
        return "multipleOf" in schema or any(declares_multiples(v) for v in schema.values())
    if isinstance(schema, list):
        return any(declares_multiples(v) for v in schema)
    return False


def without_multiples(schema: t.Any) -> t.Any:
    """The schema without its `multipleOf` rules, which `multiple_of_problem` checks.

    Compiled validators divide by the rule's float (`Decimal / float` fails, and floats
    cannot say whether 19.99 is a multiple of 0.01), while the target reads fractions as
    Decimal: pipelinewise's and singer-io's tap-mysql declare DECIMAL columns so."""
    if isinstance(schema, dict):
        return {k: without_multiples(v) for k, v in schema.items() if k != "multipleOf"}
    if isinstance(schema, list):
        return [without_multiples(v) for v in schema]
    return schema


def multiple_of_problem(schema: t.Any, value: t.Any, where: str = "") -> str | None:
    """Where `value` breaks a `multipleOf` of `schema` (exact decimal arithmetic), following
    `properties`, `items` and `anyOf`/`oneOf`/`allOf` alternatives; None when it does not."""
    if not isinstance(schema, dict):
        return None
    step = schema.get("multipleOf")
    if step is not None and _is_number(value) and not _is_multiple(value, step):
        return f"{where} must be a multiple of {step}, got {value}".strip()
    if isinstance(value, dict) and isinstance(schema.get("properties"), dict):
        for name, inner in schema["properties"].items():
            if name in value:
                problem = multiple_of_problem(inner, value[name], f"{where}.{name}")
                if problem:
                    return problem
    if isinstance(value, list) and isinstance(schema.get("items"), dict):
        for position, item in enumerate(value):
            problem = multiple_of_problem(schema["items"], item, f"{where}[{position}]")
            if problem:
                return problem
    for keyword in ("allOf", "anyOf", "oneOf"):
        options = [multiple_of_problem(o, value, where) for o in schema.get(keyword) or []]
        if keyword == "allOf" and any(options):
            return next(problem for problem in options if problem)
        if keyword != "allOf" and options and all(options):
            return options[0]
    return None


def _is_number(value: t.Any) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _is_multiple(value: t.Any, step: t.Any) -> bool:
    """Exact: 19.99 is a multiple of 0.01 (a float remainder says it is not)."""
    exact_step = decimal.Decimal(str(step))
    exact_value = decimal.Decimal(str(value)) if isinstance(value, float) else value
    if exact_step == 0 or not decimal.Decimal(exact_value).is_finite():
        return False
    with decimal.localcontext() as context:
        context.prec = 1000
        try:
            return decimal.Decimal(exact_value) % exact_step == 0
        except decimal.InvalidOperation:  # a quotient of over 1000 digits
            return False


def _explain(exc: fastjsonschema.JsonSchemaValueException) -> tuple[str, str]:
    """Where a value broke the schema (".a.b", "" for the value itself) and which rule."""
    name = exc.name or ""
    return name.removeprefix("data"), exc.message.removeprefix(name).strip()


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
    # Properties' multipleOf are checked by their property checks, exactly.
    rules = _compile(without_multiples(schema), stream)

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


def check_keys(record: dict[str, t.Any], key_properties: t.Sequence[str], stream: str) -> None:
    """Every record carries a value for each key property (a row without one has no place
    in a keyed table)."""
    for key in key_properties:
        if record.get(key) is None:
            raise MissingKeyError(
                f"key property '{key}' is missing or null",
                fix="every record must carry a value for each key property",
                stream=stream,
            )


def non_nullable_properties(
    schema: dict[str, t.Any], properties: t.Iterable[str], key_properties: t.Sequence[str]
) -> list[str]:
    """Properties whose schema refuses null (keys aside: `check_keys` covers them)."""
    return [
        prop
        for prop in properties
        if not nullable(schema["properties"][prop]) and prop not in key_properties
    ]


def validating_encoder(
    prop_schema: dict[str, t.Any], column_type: str, column: str, stats: EncodingStats, stream: str
) -> Encoder:
    """The cheapest function that checks a property's value against its schema and encodes
    it: the encoder alone where it refuses every other type already, else a type or rules
    check before it."""
    encode = encoder_for(column_type, column, stats)
    allowed = non_null_types(prop_schema)
    if allowed and not has_rules_beyond_type(prop_schema):
        checking = checking_encoder_for(column_type, column, stats, allowed)
        if checking is not None:
            return checking
    check = property_check(prop_schema, stream)
    if check is None:
        return encode

    def check_then_encode(value: t.Any) -> str:
        check(value)
        return encode(value)

    return check_then_encode


# JSON types each encoder already refuses everything else of, so no separate check is needed.
_ENFORCED_BY_ENCODER = {
    ct.BIGINT: frozenset({"integer"}),
    ct.NUMERIC: frozenset({"number"}),
    ct.BOOLEAN: frozenset({"boolean"}),
    ct.TIMESTAMPTZ: frozenset({"string"}),
    ct.DATE: frozenset({"string"}),
    ct.TIME: frozenset({"string"}),
}
_ONLY = {"string": str, "object": dict, "array": list}


def checking_encoder_for(
    column_type: str, column: str, stats: EncodingStats, allowed: frozenset[str]
) -> Encoder | None:
    """An encoder that itself enforces the property's JSON types, when one exists.

    Checking the type inside the encoder costs nothing extra per value, which is what makes
    full validation affordable. None means the caller must check separately.
    """
    if column_type == ct.TEXT and allowed == {"string"}:
        return encoder_for(STRING_ONLY, column, stats)
    encode = encoder_for(column_type, column, stats)
    if _ENFORCED_BY_ENCODER.get(column_type) == allowed or (
        column_type == ct.NUMERIC and allowed == {"integer", "number"}
    ):
        return encode
    if len(allowed) != 1 or column_type not in (ct.TEXT, ct.JSONB):
        return None
    (only,) = allowed
    expected = _ONLY.get(only)
    if expected is None or (column_type == ct.TEXT) != (only == "string"):
        return None

    def encode_if_expected(value: t.Any) -> str:
        if type(value) is not expected:
            raise InvalidValueError(f"must be {only}, got {describe(value)}")
        return encode(value)

    return encode_if_expected
