"""Values as the 4D ERP writes them, made exact and typed.

- Bodies are strict JSON except that NaN and ±Infinity appear as bare tokens (the old sync
  went through pandas). msgspec reads a page three times faster than the json module, so it
  goes first; a page it refuses is read again by the json module, with the non-finite tokens
  marked, and every number with a fraction stays an exact Decimal either way.
- Non-finite numbers become null and are counted per field.
- `DD!MM!YYYY` dates become ISO dates (`0!0!0` is no date; two-digit years pivot at 50);
  `__TIMESTAMP` becomes an ISO date-time with its offset.
- Money is never rounded: numbers arrive as Decimals, text that is a number is read exactly
  (a decimal comma too), and text that is not is reported and left null, not turned into 0.
- Nested collections (`{"__ENTITIES": […]}` or `{"Coll": […]}`) become plain lists.
"""

from __future__ import annotations

import datetime
import decimal
import json
import re
import typing as t
from collections import Counter

import msgspec


class _NonFinite:
    """Marks a NaN or ±Infinity the ERP wrote where a number belongs."""

    def __repr__(self) -> str:
        return "NON_FINITE"


NON_FINITE = _NonFinite()
_STRICT = msgspec.json.Decoder(float_hook=decimal.Decimal)
_NON_FINITE_TOKENS = (b"NaN", b"Infinity")


def decode_body(content: bytes) -> t.Any:
    """A 4D REST body; NaN and ±Infinity become `NON_FINITE`. ValueError when unreadable."""
    try:
        return _STRICT.decode(content)
    except msgspec.DecodeError:
        if not may_hold_non_finite(content):
            raise
    return json.loads(content, parse_float=decimal.Decimal, parse_constant=lambda _: NON_FINITE)


def may_hold_non_finite(content: bytes) -> bool:
    """Whether a body can hold a non-finite number (cheap; false positives are fine)."""
    return any(token in content for token in _NON_FINITE_TOKENS)


_DAY_FORMATS = ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S", "%d.%m.%Y", "%Y%m%d")
"""Other forms the old production client read date fields in (`base.py`
`_parse_legacy_date`): which field uses which on the wire is not known."""


def erp_date(value: t.Any) -> str | None:
    """`24!12!2021` → `2021-12-24`; `0!0!0` (any zero part) → None; two-digit years as the old
    client read them: `!51`…`!99` → 19xx, `!00`…`!50` → 20xx. ISO, dotted and compact dates
    are read too. ValueError for text that is no date."""
    if value is None or value == "":
        return None
    text = str(value).strip()
    if "!" not in text:
        return _other_day(text)
    day, month, year = (int(part) for part in text.split("!"))
    if day == 0 or month == 0:
        return None
    if year < 100:
        year += 1900 if year > 50 else 2000
    return datetime.date(year, month, day).isoformat()


def _other_day(text: str) -> str | None:
    if text.startswith(("0000-00-00", "00.00.0000")):
        return None
    for form in _DAY_FORMATS:
        try:
            return datetime.datetime.strptime(text[:19], form).date().isoformat()
        except ValueError:
            continue
    return datetime.datetime.fromisoformat(text).date().isoformat()


def erp_timestamp(value: t.Any) -> str | None:
    """`2023-03-01T12:34:56.789Z` → `2023-03-01T12:34:56.789000+00:00` (zone kept)."""
    if value is None or value == "":
        return None
    moment = datetime.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.isoformat()


COLLECTION_KEYS = ("__ENTITIES", "Coll")
"""How 4D wraps a nested collection."""

_DECIMAL_COMMA = re.compile(r"^[+-]?\d+,\d+$")


def exact_number(value: t.Any) -> t.Any:
    """A number as an exact Decimal/int; text holding a number read exactly (`12,50` too).
    ValueError for anything else."""
    if isinstance(value, (int, decimal.Decimal)) and not isinstance(value, bool):
        return value
    if isinstance(value, float):  # not from our decoders, but never round through binary
        return decimal.Decimal(repr(value))
    if isinstance(value, str):
        text = value.strip()
        if _DECIMAL_COMMA.match(text):
            text = text.replace(",", ".")
        number = decimal.Decimal(text)  # InvalidOperation is an ArithmeticError
        if number.is_finite():
            return number
    raise ValueError(f"not a number: {value!r}")


def plain_collection(value: t.Any) -> t.Any:
    """`{"__ENTITIES": [...]}` or `{"Coll": [...]}` → the list; other values unchanged."""
    if isinstance(value, dict) and len(value) == 1:
        inner = next(iter(value.values()))
        if isinstance(inner, list) and next(iter(value)) in COLLECTION_KEYS:
            return inner
    return value


def without_non_finite(value: t.Any, path: str, counts: Counter[str]) -> t.Any:
    """`value` with every NON_FINITE (nested ones too) replaced by None, counted by path."""
    if value is NON_FINITE:
        counts[path] += 1
        return None
    if isinstance(value, dict):
        return {
            k: without_non_finite(v, path if k in COLLECTION_KEYS else f"{path}.{k}", counts)
            for k, v in value.items()
        }
    if isinstance(value, list):
        return [without_non_finite(item, path, counts) for item in value]
    return value
