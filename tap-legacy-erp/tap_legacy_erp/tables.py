"""Which 4D tables the tap reads: defaults from what is known of the ERP
(docs/sources/legacy-erp.md), extended or overridden by the `tables` setting, so a new 4D
table needs a setting, not code.

    "tables": {
      "Artikel_Neu": {"key": ["__KEY"], "change_column": "modified_date"},
      "Lagerbestand": {"change_column": null},
      "Stamm_Lagerorte": {"enabled": false}
    }

An entry for a known table changes only the fields it names; an entry for a new table needs
at least its key. A table whose `change_column` is null is read whole on every run. A child
table (`parent`, `parent_key`) is read for the parent records a run emits, asked for by
parent key in OR-groups of `child_chunk_size`.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass, field, fields, replace


class TableSettingError(ValueError):
    """The `tables` setting describes a table the tap cannot read."""


@dataclass(frozen=True)
class TableSpec:
    """How one 4D table is read."""

    table: str
    key: tuple[str, ...] = ("__KEY",)
    change_column: str | None = "modified_date"
    parent: str | None = None
    """The parent table of a child table (its records' keys select the child records)."""
    parent_key: str | None = None
    """The child's field holding the parent's key (and the parent's field it refers to)."""
    stream: str = ""
    """The Singer stream name; snake case of the table name unless set."""
    filters: dict[str, t.Any] = field(default_factory=dict)
    """Conditions for this table only, like the `filters` setting."""
    properties: dict[str, t.Any] | None = None
    """JSON schema properties; without them a bundled schema, else one read from a sample."""
    enabled: bool = True

    @property
    def stream_name(self) -> str:
        return self.stream or snake_case(self.table)


DEFAULT_TABLES: tuple[TableSpec, ...] = (
    TableSpec("Artikel_Familie"),
    TableSpec("Artikel_Variante"),
    TableSpec("Kunden", change_column="last_modified"),
    TableSpec("Adressen"),
    TableSpec("Belege", key=("AbsNr",), change_column="Datum"),
    TableSpec(
        "Belege_Pos",
        key=("AbsNr", "PosNr"),
        change_column=None,
        parent="Belege",
        parent_key="AbsNr",
    ),
    TableSpec("Lagerbestand", enabled=False),
    TableSpec("Stamm_Lagerorte", key=("ID_Lagerort",)),
    TableSpec("Artikel_Lagerorte", key=("UUID",)),
)
"""Keys and change columns as the old production sync (louisepaul75/py-erp, config/*.yaml)
read them. The old sync never read Lagerbestand as a table (only a helper filtered it on
`ArtikelNr`), so its fields are unknown: it is off unless enabled, and then its schema is
read from a sample page (stock by place is Artikel_Lagerorte)."""

_NAME = re.compile(r"^\w+$")


def snake_case(name: str) -> str:
    """`Artikel_Variante` → `artikel_variante`, `BelegePos` → `belege_pos`."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", name)
    return re.sub(r"[^0-9a-zA-Z]+", "_", spaced).strip("_").lower()


def table_specs(setting: t.Mapping[str, t.Any] | None) -> list[TableSpec]:
    """The defaults with the `tables` setting applied, enabled tables only, parents first."""
    specs = {spec.table: spec for spec in DEFAULT_TABLES}
    known = {item.name for item in fields(TableSpec)} - {"table"}
    for table, entry in (setting or {}).items():
        if not _NAME.match(table):
            raise TableSettingError(f"tables: {table!r} is not a 4D table name (letters, _, 0-9)")
        if not isinstance(entry, dict):
            raise TableSettingError(f"tables: the entry for {table} must be an object")
        unknown = set(entry) - known
        if unknown:
            raise TableSettingError(
                f"tables: {table} has unknown fields {', '.join(sorted(unknown))} "
                f"(known: {', '.join(sorted(known))})"
            )
        changes = {name: tuple(v) if name == "key" else v for name, v in entry.items()}
        if table not in specs and not changes.get("key"):
            raise TableSettingError(f"tables: the new table {table} needs a key, e.g. ['__KEY']")
        specs[table] = replace(specs.get(table, TableSpec(table)), **changes)
    enabled = [spec for spec in specs.values() if spec.enabled]
    names = {spec.table for spec in enabled}
    for spec in enabled:
        if spec.parent and (spec.parent not in names or not spec.parent_key):
            raise TableSettingError(
                f"tables: {spec.table} is read by its parent {spec.parent}, which needs to be "
                "enabled, and a parent_key"
            )
    return sorted(enabled, key=lambda spec: spec.parent is not None)
