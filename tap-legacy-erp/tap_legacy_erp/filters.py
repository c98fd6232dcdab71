"""4D `$filter` conditions: built from settings, quoted safely, and checked again on the
client, because the server's filtering was unreliable combined with paging.

A `filters` setting maps fields to what they must hold:

    {"aktiv": true}                      'aktiv = true'
    {"Papierart": ["R", "G"]}            ('Papierart = "R"' or 'Papierart = "G"')
    {"Netto": {">=": 100, "<": 500}}     'Netto >= 100' and 'Netto < 500'

Conditions are joined with ` and `. Text is quoted with `"` inside the condition's `'`, and
backslashes and both quote characters are escaped, so a value cannot end its condition.
"""

from __future__ import annotations

import datetime
import decimal
import re
import typing as t
from dataclasses import dataclass

OPERATORS = ("=", "!=", ">", ">=", "<", "<=")
_FIELD = re.compile(r"^\w+$")
_COMPARE: dict[str, t.Callable[[t.Any, t.Any], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
}


class FilterSettingError(ValueError):
    """A `filters` setting the tap cannot turn into 4D conditions."""


@dataclass(frozen=True)
class Condition:
    """`field operator value`, as 4D reads it and as the tap checks it."""

    field: str
    operator: str
    value: t.Any

    def to_4d(self) -> str:
        text = f"{self.field} {self.operator} {literal(self.value)}"
        return "'" + text.replace("'", "\\'") + "'"

    def matches(self, record: t.Mapping[str, t.Any]) -> bool:
        """Whether the record (values as the tap emits them) satisfies the condition."""
        left, right = _comparable(record.get(self.field), self.value)
        if left is None or right is None:
            return False
        try:
            return _COMPARE[self.operator](left, right)
        except TypeError:
            return False


@dataclass(frozen=True)
class AnyOf:
    """Conditions of which one must hold: `(… or …)`."""

    conditions: tuple[Condition, ...]

    @property
    def field(self) -> str:
        return self.conditions[0].field

    def to_4d(self) -> str:
        return "(" + " or ".join(c.to_4d() for c in self.conditions) + ")"

    def matches(self, record: t.Mapping[str, t.Any]) -> bool:
        return any(c.matches(record) for c in self.conditions)


Clause = Condition | AnyOf


def literal(value: t.Any) -> str:
    """A value in 4D filter syntax: booleans and numbers bare, days as `"YYYY-MM-DD"` (the
    form the old production client confirmed against the live server, with `>=`/`<=`), text
    in escaped double quotes."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        return str(value)
    if isinstance(value, datetime.datetime):
        moment = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return f'"{moment.astimezone(datetime.timezone.utc).date().isoformat()}"'
    if isinstance(value, datetime.date):
        return f'"{value.isoformat()}"'
    text = str(value).replace("\\", "\\\\").replace('"', '\\"')
    return f'"{text}"'


def clauses_from(setting: t.Mapping[str, t.Any] | None) -> list[Clause]:
    """The clauses a `filters` setting asks for (see the module docstring)."""
    clauses: list[Clause] = []
    for field, wanted in (setting or {}).items():
        if not _FIELD.match(str(field)):
            raise FilterSettingError(f"filters: {field!r} is not a field name (letters, _, 0-9)")
        if isinstance(wanted, list):
            if not wanted:
                raise FilterSettingError(f"filters: {field} lists no values")
            clauses.append(AnyOf(tuple(Condition(field, "=", _scalar(field, v)) for v in wanted)))
        elif isinstance(wanted, dict):
            for operator, value in wanted.items():
                if operator not in OPERATORS:
                    raise FilterSettingError(
                        f"filters: {field} uses {operator!r}; use one of {' '.join(OPERATORS)}"
                    )
                clauses.append(Condition(field, operator, _scalar(field, value)))
        else:
            clauses.append(Condition(field, "=", _scalar(field, wanted)))
    return clauses


def refuse_strict_date_comparison(
    clause: Clause, properties: t.Mapping[str, t.Any], table: str
) -> None:
    """The live 4D server answered 500 to `>` and `<` on a date field (the old production
    client's filter tests); `>=` and `<=` work."""
    conditions = clause.conditions if isinstance(clause, AnyOf) else (clause,)
    for condition in conditions:
        kind = properties.get(condition.field, {}).get("format")
        if condition.operator in (">", "<") and kind in ("date", "date-time"):
            raise FilterSettingError(
                f"filters: {table}.{condition.field} is a date; 4D answers {condition.operator} "
                "on a date with an error, use >= or <= instead"
            )


def any_of(field: str, values: t.Iterable[t.Any]) -> AnyOf:
    """`field` equal to one of `values` (how child records are asked for by parent)."""
    return AnyOf(tuple(Condition(field, "=", value) for value in values))


def _scalar(field: str, value: t.Any) -> t.Any:
    if isinstance(value, (dict, list)) or value is None:
        raise FilterSettingError(f"filters: {field} needs a text, number or boolean value")
    return value


def _comparable(value: t.Any, wanted: t.Any) -> tuple[t.Any, t.Any]:
    """Both sides in one type: booleans, exact numbers, dates, or text."""
    if value is None:
        return None, None
    if isinstance(wanted, bool) or isinstance(value, bool):
        return value, wanted if isinstance(wanted, bool) else str(wanted).lower() == "true"
    if isinstance(wanted, datetime.date):
        day = wanted.date() if isinstance(wanted, datetime.datetime) else wanted
        try:
            return datetime.date.fromisoformat(str(value)[:10]), day
        except ValueError:
            return None, None
    if isinstance(value, (int, decimal.Decimal)):
        try:
            return value, decimal.Decimal(str(wanted))
        except decimal.InvalidOperation:
            return str(value), str(wanted)
    return str(value), str(wanted)
