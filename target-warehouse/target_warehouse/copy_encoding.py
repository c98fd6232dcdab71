"""Encode record values as CSV fields for `COPY … FROM STDIN (FORMAT csv)`.

Each column gets one small encoder chosen from its Postgres type, so the per-record work is
a dictionary lookup and a function call per column. Encoders are strict: a value that the
column cannot hold exactly raises `InvalidValueError` instead of being coerced (no float
rounding, no silent truncation, no guessed dates). Text is always quoted, so an unquoted
empty field means NULL and a quoted one means the empty string.
"""

from __future__ import annotations

import datetime
import decimal
import typing as t
from dataclasses import dataclass, field

import msgspec

from target_warehouse import column_types as ct
from target_warehouse.errors import InvalidValueError

Encoder = t.Callable[[t.Any], str]

BIGINT_MIN = -(2**63)
BIGINT_MAX = 2**63 - 1
_json_encoder = msgspec.json.Encoder(decimal_format="number")
_ESCAPED_NUL = b"\\u0000"
STRING_ONLY = "text of strings only"
"""The encoder of a text column whose values must be strings (it refuses anything else)."""


@dataclass
class EncodingStats:
    """What encoding had to change or discover, reported per stream."""

    nul_characters_removed: int = 0
    columns_to_widen: dict[str, str] = field(default_factory=dict)


def quote_csv(text: str) -> str:
    """CSV-quote a string; doubling quotes is the only escaping CSV needs."""
    return '"' + text.replace('"', '""') + '"'


def _without_nul(value: t.Any) -> t.Any:
    """Copy of a nested value with NUL characters removed from every string."""
    if isinstance(value, str):
        return value.replace("\x00", "")
    if isinstance(value, dict):
        return {_without_nul(k): _without_nul(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_without_nul(v) for v in value]
    return value


def _is_finite(value: float | decimal.Decimal) -> bool:
    if isinstance(value, decimal.Decimal):
        return value.is_finite()
    return value == value and value not in (float("inf"), float("-inf"))


def _make_encoders(stats: EncodingStats, column: str) -> dict[str, Encoder]:
    """Encoders for one column, one per Postgres type; they share the stream's stats."""

    def string(value: t.Any) -> str:
        """Text column of a string-only property: the type check and quoting in one call."""
        if type(value) is not str:
            raise InvalidValueError(f"must be string, got {describe(value)}")
        if "\x00" in value:
            stats.nul_characters_removed += value.count("\x00")
            value = value.replace("\x00", "")
        return '"' + value.replace('"', '""') + '"'

    def text(value: t.Any) -> str:
        """Text column of a union of types: other values in their text form, then quoted."""
        return string(value if type(value) is str else _as_text(value))

    def jsonb(value: t.Any) -> str:
        if isinstance(value, float) and not _is_finite(value):
            raise InvalidValueError(f"{value} is not valid JSON; send null or a finite number")
        encoded = _json_encoder.encode(value)
        if _ESCAPED_NUL in encoded:
            cleaned = _json_encoder.encode(_without_nul(value))
            removed = encoded.count(_ESCAPED_NUL) - cleaned.count(_ESCAPED_NUL)
            stats.nul_characters_removed += removed
            encoded = cleaned
        return quote_csv(encoded.decode("utf-8"))

    def bigint(value: t.Any) -> str:
        number = _integer(value)
        if not BIGINT_MIN <= number <= BIGINT_MAX:
            stats.columns_to_widen[column] = ct.NUMERIC
        return str(number)

    return {
        STRING_ONLY: string,
        ct.TEXT: text,
        ct.JSONB: jsonb,
        ct.BIGINT: bigint,
        ct.NUMERIC: _numeric,
        ct.BOOLEAN: _boolean,
        ct.TIMESTAMPTZ: _timestamptz,
        ct.DATE: _date,
        ct.TIME: _time,
    }


def encoder_for(column_type: str, column: str, stats: EncodingStats) -> Encoder:
    """The encoder for a column of `column_type`; widening needs are noted in `stats`."""
    return _make_encoders(stats, column)[column_type]


def _as_text(value: t.Any) -> str:
    """Text form of a non-string value stored in a text column (a union of types)."""
    if value is True or value is False:
        return "true" if value else "false"
    if isinstance(value, (dict, list)):
        return _json_encoder.encode(value).decode("utf-8")
    if isinstance(value, (float, decimal.Decimal)) and not _is_finite(value):
        raise InvalidValueError(f"{value} cannot be stored exactly; send null or a finite number")
    return str(value)


def _integer(value: t.Any) -> int:
    if type(value) is int:
        return value
    if isinstance(value, decimal.Decimal) and value.is_finite() and value == value.to_integral():
        return int(value)
    raise InvalidValueError(f"expected an integer, got {describe(value)}")


def _numeric(value: t.Any) -> str:
    if type(value) is int:
        return str(value)
    if isinstance(value, decimal.Decimal) and value.is_finite():
        return str(value)
    if type(value) is float and _is_finite(value):
        return repr(value)
    if isinstance(value, (float, decimal.Decimal)):
        raise InvalidValueError(f"{value} cannot be stored exactly; send null or a finite number")
    raise InvalidValueError(f"expected a number, got {describe(value)}")


def _boolean(value: t.Any) -> str:
    if value is True:
        return "t"
    if value is False:
        return "f"
    raise InvalidValueError(f"expected true or false, got {describe(value)}")


def _is_extended_iso(text: str) -> bool:
    """YYYY-MM-DD[T ]HH:MM…: the ISO form Postgres reads exactly as Python does."""
    return len(text) >= 16 and text[4] == "-" and text[7] == "-" and text[13] == ":"


def _timestamptz(value: t.Any) -> str:
    parsed = _parse(value, datetime.datetime, "an ISO 8601 date-time")
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=datetime.timezone.utc)
    elif _is_extended_iso(value):
        return value
    return parsed.isoformat()


def _date(value: t.Any) -> str:
    return _parse(value, datetime.date, "an ISO 8601 date (YYYY-MM-DD)").isoformat()


def _time(value: t.Any) -> str:
    if isinstance(value, str) and value[1:2] == ":" and value[:1].isdigit():
        value = f"0{value}"  # H:MM:SS: MySQL's TIME as tap-mysql writes it (a timedelta)
    return _parse(value, datetime.time, "an ISO 8601 time (HH:MM:SS)").isoformat()


_Parsed = t.TypeVar("_Parsed", datetime.datetime, datetime.date, datetime.time)


def _parse(value: t.Any, kind: type[_Parsed], expected: str) -> _Parsed:
    if isinstance(value, str):
        try:
            return kind.fromisoformat(value)
        except ValueError:
            pass
    raise InvalidValueError(f"expected {expected}, got {describe(value)}")


def describe(value: t.Any) -> str:
    """Short description of an offending value for error messages (never the whole value)."""
    shown = repr(value)
    if len(shown) > 60:
        shown = shown[:57] + "..."
    return f"{type(value).__name__} {shown}"
