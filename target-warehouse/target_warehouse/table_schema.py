"""Create and evolve a stream's table so every schema the tap sends fits without loss.

The table is read from the catalog, compared with what the stream's schema asks for, and
changed with plain DDL: new properties add nullable columns, a type change widens the column
(never narrows), columns missing from the schema stay and lose NOT NULL, and the key
properties become a real primary key. Each column's comment records the source property
name, so the property-to-column mapping survives across runs. `plan` only computes the
statements, so a dry run can show them without executing anything.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from target_warehouse import column_types as ct
from target_warehouse.errors import BadInputError
from target_warehouse.naming import column_names, identifier, qualified, quote

VALID_FROM = "_sdc_valid_from"
VALID_TO = "_sdc_valid_to"
"""A history table's version interval: [valid_from, valid_to), valid_to null while current."""


@dataclass
class ExistingTable:
    """What the catalog says about a table."""

    column_types: dict[str, str]
    sources: dict[str, str]
    not_null: set[str]
    primary_key: list[str]
    primary_key_name: str | None


@dataclass
class TableLayout:
    """The table a stream loads into once the plan has run."""

    schema: str
    table: str
    columns: dict[str, str] = field(default_factory=dict)
    property_columns: dict[str, str] = field(default_factory=dict)
    key_columns: list[str] = field(default_factory=list)
    versioned: bool = False
    """A history table (load_method history): one row per version of each key."""

    @property
    def qualified_name(self) -> str:
        """Quoted schema.table for SQL."""
        return qualified(self.schema, self.table)

    @property
    def primary_key(self) -> list[str]:
        """The key, plus the start of each version in a history table."""
        return [*self.key_columns, VALID_FROM] if self.versioned else self.key_columns


def sql_literal(text: str) -> str:
    """A standard-conforming SQL string literal (quotes doubled)."""
    return "'" + text.replace("'", "''") + "'"


_CATALOG_QUERY = """
SELECT a.attname, format_type(a.atttypid, a.atttypmod), a.attnotnull,
       col_description(a.attrelid, a.attnum)
FROM pg_attribute a
WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attnum
"""
_PRIMARY_KEY_QUERY = """
SELECT c.conname, array_agg(a.attname ORDER BY k.ordinality)
FROM pg_constraint c
CROSS JOIN LATERAL unnest(c.conkey) WITH ORDINALITY AS k(attnum, ordinality)
JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = k.attnum
WHERE c.conrelid = to_regclass(%s) AND c.contype = 'p'
GROUP BY c.conname
"""


def lock_schema_ddl(cursor: t.Any, schema: str) -> None:
    """Wait until no other load is changing this schema's tables, for the rest of the
    transaction. Two targets loading one schema at once (CallRail's partitions) would both
    create it or its tables, and the second `IF NOT EXISTS` fails on Postgres's own catalog
    (a duplicate key in pg_namespace or pg_type); in turn, the second reads the table the
    first made and plans from that."""
    cursor.execute(
        "SELECT pg_advisory_xact_lock(hashtext(%s))", (f"target-warehouse ddl {schema}",)
    )


def read_existing(cursor: t.Any, schema: str, table: str) -> ExistingTable | None:
    """The table as it is now, or None when it does not exist."""
    name = qualified(schema, table)
    cursor.execute(_CATALOG_QUERY, (name,))
    rows = cursor.fetchall()
    if not rows:
        return None
    cursor.execute(_PRIMARY_KEY_QUERY, (name,))
    key = cursor.fetchone()
    return ExistingTable(
        column_types={col: ct.CATALOG_NAMES.get(pg_type, pg_type) for col, pg_type, _, _ in rows},
        sources={comment: col for col, _, _, comment in rows if comment},
        not_null={col for col, _, not_null, _ in rows if not_null},
        primary_key=list(key[1]) if key else [],
        primary_key_name=key[0] if key else None,
    )


def desired_layout(
    schema: str,
    table: str,
    properties: dict[str, dict[str, t.Any]],
    key_properties: t.Sequence[str],
    existing: ExistingTable | None,
    *,
    versioned: bool = False,
) -> TableLayout:
    """Columns and types the stream needs, keeping the names already in use; a history
    table also gets its version interval."""
    missing_keys = [key for key in key_properties if key not in properties]
    if missing_keys:
        raise BadInputError(
            f"key properties {missing_keys} are not in the schema's properties",
            fix="the tap must declare every key property in the stream's schema",
        )
    known = {p: c for p, c in (existing.sources if existing else {}).items() if p in properties}
    names = column_names(list(properties), known)
    columns: dict[str, str] = {}
    for prop, column in names.items():
        wanted = ct.column_type(properties[prop])
        current = existing.column_types.get(column) if existing else None
        columns[column] = ct.widen(current, wanted) or wanted
    if versioned:
        columns.update({VALID_FROM: ct.TIMESTAMPTZ, VALID_TO: ct.TIMESTAMPTZ})
    return TableLayout(
        schema=schema,
        table=table,
        columns=columns,
        property_columns=names,
        key_columns=[names[key] for key in key_properties],
        versioned=versioned,
    )


def primary_key_name(table: str) -> str:
    """Deterministic primary-key constraint name that fits 63 bytes."""
    return identifier(f"{table}_pkey")


def retyped_columns(layout: TableLayout, existing: ExistingTable | None) -> dict[str, str]:
    """Columns whose type `plan` changes: column → "old → new" (views that read them must
    be set aside, see dependent_views)."""
    if existing is None:
        return {}
    return {
        column: f"{existing.column_types[column]} → {kind}"
        for column, kind in layout.columns.items()
        if existing.column_types.get(column) not in (None, kind)
    }


def type_change(retyped: dict[str, str]) -> str:
    """What a retyping does, as the messages say it: "column v changes type (bigint →
    numeric)"."""
    changes = ", ".join(f"{column} ({kinds})" for column, kinds in retyped.items())
    if len(retyped) == 1:
        return f"column {changes} changes type"
    return f"columns {changes} change type"


def plan(layout: TableLayout, existing: ExistingTable | None) -> list[str]:
    """DDL statements that turn `existing` into `layout` (empty when nothing changes)."""
    if existing is None:
        return _create_statements(layout)
    statements: list[str] = []
    table = layout.qualified_name
    alterations = []
    for column, pg_type in layout.columns.items():
        current = existing.column_types.get(column)
        if current is None:
            alterations.append(f"ADD COLUMN {quote(column)} {pg_type}")
        elif current != pg_type:
            using = ct.conversion(quote(column), pg_type)
            alterations.append(f"ALTER COLUMN {quote(column)} TYPE {pg_type} USING {using}")
    for column in sorted(existing.not_null - set(layout.columns) - set(layout.primary_key)):
        alterations.append(f"ALTER COLUMN {quote(column)} DROP NOT NULL")
    if existing.primary_key != layout.primary_key:
        if existing.primary_key_name:
            alterations.append(f"DROP CONSTRAINT {quote(existing.primary_key_name)}")
        for column in sorted(set(existing.primary_key) - set(layout.primary_key)):
            alterations.append(f"ALTER COLUMN {quote(column)} DROP NOT NULL")
        if layout.primary_key:
            alterations.append(_primary_key_clause(layout, "ADD "))
    if alterations:
        statements.append(f"ALTER TABLE {table} " + ", ".join(alterations))
    statements += _comment_statements(layout, existing.sources)
    return statements


def _primary_key_clause(layout: TableLayout, prefix: str = "") -> str:
    keys = ", ".join(quote(column) for column in layout.primary_key)
    return f"{prefix}CONSTRAINT {quote(primary_key_name(layout.table))} PRIMARY KEY ({keys})"


def _create_statements(layout: TableLayout) -> list[str]:
    definitions = [f"{quote(column)} {pg_type}" for column, pg_type in layout.columns.items()]
    if layout.primary_key:
        definitions.append(_primary_key_clause(layout))
    create = f"CREATE TABLE {layout.qualified_name} (\n    " + ",\n    ".join(definitions) + "\n)"
    return [
        f"CREATE SCHEMA IF NOT EXISTS {quote(layout.schema)}",
        create,
        *_comment_statements(layout, {}),
    ]


def _comment_statements(layout: TableLayout, known_sources: dict[str, str]) -> list[str]:
    return [
        f"COMMENT ON COLUMN {layout.qualified_name}.{quote(column)} IS {sql_literal(prop)}"
        for prop, column in layout.property_columns.items()
        if known_sources.get(prop) != column
    ]
