"""Views that others built on the target's tables: dbt's staging models, an analyst's view.

Postgres refuses to change the type of a column a view reads, and to drop a table a view
reads. Once dbt has run, a widened column (integer → numeric, a bigint overflow) or an
overwrite's swap would then stop every load of that stream. So the views that read the
table, directly or through other views, are set aside: their definitions, options, owner,
grants, comments and (for materialized views) indexes are saved, they are dropped, the table
changes, and they are made again from what was saved, in the same transaction. A view that
no longer compiles over the changed table rolls the whole change back, with one line that
names it.
"""

from __future__ import annotations

import contextlib
import typing as t
from collections.abc import Collection, Iterator
from dataclasses import dataclass, field

import psycopg2

from target_warehouse.errors import LoadError, postgres_reason
from target_warehouse.naming import qualified, quote
from target_warehouse.table_schema import sql_literal

_DEPENDENTS_QUERY = """
WITH RECURSIVE dependent(oid, depth) AS (
    SELECT r.ev_class, 1
    FROM pg_depend d JOIN pg_rewrite r ON r.oid = d.objid
    WHERE d.classid = 'pg_rewrite'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjid = to_regclass(%s) AND r.ev_class <> d.refobjid
    UNION ALL
    SELECT r.ev_class, dependent.depth + 1
    FROM dependent
    JOIN pg_depend d ON d.refobjid = dependent.oid AND d.refclassid = 'pg_class'::regclass
        AND d.classid = 'pg_rewrite'::regclass
    JOIN pg_rewrite r ON r.oid = d.objid
    WHERE r.ev_class <> dependent.oid
)
SELECT c.oid, n.nspname, c.relname, c.relkind = 'm',
       pg_get_viewdef(c.oid), c.reloptions, pg_get_userbyid(c.relowner), c.relispopulated,
       obj_description(c.oid, 'pg_class')
FROM dependent
JOIN pg_class c ON c.oid = dependent.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
GROUP BY c.oid, n.nspname, c.relname
ORDER BY max(dependent.depth), n.nspname, c.relname
"""
"""Every view and materialized view that reads the table, nearest first: a view comes after
every view it reads (its longest path from the table is longer)."""

_GRANTS_QUERY = """
SELECT a.privilege_type,
       CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE quote_ident(pg_get_userbyid(a.grantee)) END,
       a.is_grantable
FROM pg_class c, aclexplode(c.relacl) a
WHERE c.oid = %s AND a.grantee <> c.relowner
ORDER BY 2, 1
"""

_COLUMN_COMMENTS_QUERY = """
SELECT quote_ident(attname), col_description(attrelid, attnum)
FROM pg_attribute
WHERE attrelid = %s AND attnum > 0 AND NOT attisdropped
  AND col_description(attrelid, attnum) IS NOT NULL
ORDER BY attnum
"""

_INDEXES_QUERY = "SELECT pg_get_indexdef(indexrelid) FROM pg_index WHERE indrelid = %s"


@dataclass
class SavedView:
    """What it takes to make a view again as it was."""

    name: str
    """Schema-qualified and quoted, as `naming.qualified` writes it."""
    materialized: bool
    definition: str
    options: list[str] | None
    owner: str
    populated: bool
    comment: str | None
    after: list[str] = field(default_factory=list)
    """Statements run once it exists again: grants, comments, indexes."""

    @property
    def kind(self) -> str:
        return "MATERIALIZED VIEW" if self.materialized else "VIEW"

    def create(self) -> str:
        options = f" WITH ({', '.join(self.options)})" if self.options else ""
        data = (" WITH DATA" if self.populated else " WITH NO DATA") if self.materialized else ""
        return f"CREATE {self.kind} {self.name}{options} AS {self.definition.rstrip(';')}{data}"


def save(cursor: t.Any, table: str) -> list[SavedView]:
    """The views that read `table` (schema-qualified), nearest first."""
    cursor.execute(_DEPENDENTS_QUERY, (table,))
    found = cursor.fetchall()
    cursor.execute("SELECT current_user")
    (user,) = cursor.fetchone()
    views = []
    for oid, schema, name, *described in found:
        view = SavedView(qualified(schema, name), *described)
        view.after = _restoring_statements(cursor, oid, view, user)
        views.append(view)
    return views


def _restoring_statements(cursor: t.Any, oid: int, view: SavedView, user: str) -> list[str]:
    statements = []
    if view.owner != user:
        statements.append(f"ALTER {view.kind} {view.name} OWNER TO {quote(view.owner)}")
    cursor.execute(_GRANTS_QUERY, (oid,))
    for privilege, grantee, grantable in cursor.fetchall():
        option = " WITH GRANT OPTION" if grantable else ""
        statements.append(f"GRANT {privilege} ON {view.name} TO {grantee}{option}")
    if view.comment is not None:
        statements.append(f"COMMENT ON {view.kind} {view.name} IS {sql_literal(view.comment)}")
    cursor.execute(_COLUMN_COMMENTS_QUERY, (oid,))
    for column, comment in cursor.fetchall():
        statements.append(f"COMMENT ON COLUMN {view.name}.{column} IS {sql_literal(comment)}")
    if view.materialized:
        cursor.execute(_INDEXES_QUERY, (oid,))
        statements += [definition for (definition,) in cursor.fetchall()]
    return statements


@contextlib.contextmanager
def set_aside(
    cursor: t.Any,
    table: str,
    *,
    change: str,
    remade: Collection[str | None] = (),
    stream: str | None = None,
) -> Iterator[list[SavedView]]:
    """Inside: the views that read `table` are gone; after: they are back, over the table
    as it is then. `remade` names views the change makes again itself (a history table's
    current view), so they are dropped but not restored. `change` says what is done, for
    the message when a view refuses (about `stream`)."""
    views = save(cursor, table)
    view = None
    try:
        for view in reversed(views):
            cursor.execute(f"DROP {view.kind} IF EXISTS {view.name}")
    except psycopg2.Error as exc:
        raise _refusal(exc, view, f"{change} in {table}", "dropped", stream) from exc
    yield views
    try:
        for view in views:
            if view.name not in remade:
                for statement in (view.create(), *view.after):
                    cursor.execute(statement)
    except psycopg2.Error as exc:
        raise _refusal(exc, view, f"{change} in {table}", "made again", stream) from exc


def _refusal(
    exc: psycopg2.Error, view: SavedView | None, change: str, step: str, stream: str | None
) -> LoadError:
    """One line naming the view and what to do; the caller's transaction is rolled back
    whole, so nothing was changed."""
    name = view.name if view else "a view"
    return LoadError(
        f"{change}, and the view {name} that reads it could not be {step}: "
        f"{postgres_reason(exc)}; nothing was changed",
        fix=(
            f"drop {name} (or change it to fit), run again, then make it again (dbt run); "
            "or let this user own it"
        ),
        stream=stream,
    )
