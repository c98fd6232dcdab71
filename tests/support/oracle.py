"""An independent oracle: a Genius table in MariaDB against its warehouse table, by reladiff.

reladiff (PyPI, installed for the tests only) checksums segments of both tables in their own
databases and bisects down to the rows that differ. Written by others, it cannot share a
mistake of the tap or the target. What it is given here, and why:

- every column both tables have, keys included, against the warehouse's live rows
  (`_sdc_deleted_at IS NULL`);
- not a column holding MySQL zero dates: the tap loads them as null on purpose;
- its MySQL driver connects as utf8mb3 in a transaction, so the session is switched to
  utf8mb4 (emoji) and autocommit (else every later comparison reads an old snapshot);
- `skip_sort_results`: one side may hold NULL where the other holds text;
- 0.6.0 cannot key on a text column: such a table is compared here, row by row;
- its Postgres driver installs psycopg2's wait callback for the whole process, which refuses
  COPY (the target's in-process tests load with it): the callback is taken away again after
  every use.
"""

from __future__ import annotations

import dataclasses
import datetime
import typing as t

import psycopg2
import psycopg2.extensions
import reladiff
import sqlalchemy as sa

from sandbox import genius
from tests.support.pipelines import canon

if t.TYPE_CHECKING:
    from reladiff.table_segment import TableSegment


@dataclasses.dataclass
class TableDiff:
    """How a warehouse table differs from its source table, by key."""

    missing: set = dataclasses.field(default_factory=set)
    """In the source, not live in the warehouse."""
    extra: set = dataclasses.field(default_factory=set)
    """Live in the warehouse, gone from the source."""
    differing: set = dataclasses.field(default_factory=set)
    """In both, with other values."""

    def __bool__(self) -> bool:
        return bool(self.missing or self.extra or self.differing)


class GeniusOracle:
    """Compares every Genius table with its stream's table in one warehouse schema."""

    def __init__(self, mysql_url: str, warehouse_url: str, schema: str) -> None:
        self.engine = sa.create_engine(mysql_url)
        self.warehouse_url = warehouse_url
        self.schema = schema
        self.source = reladiff.connect(mysql_url.replace("mysql+pymysql", "mysql"))
        # Its one thread's connection: utf8mb4, and every query sees what is committed now
        # (the driver opens a transaction otherwise, and later reads see its snapshot).
        self.source.query("SET NAMES utf8mb4", None)
        self.source.query("SET SESSION autocommit = 1", None)
        postgres = {"driver": "postgresql", **psycopg2.extensions.parse_dsn(warehouse_url)}
        postgres["database"] = postgres.pop("dbname")
        self.warehouse = reladiff.connect(postgres)
        _without_wait_callback()

    def close(self) -> None:
        self.source.close()
        self.warehouse.close()
        self.engine.dispose()
        _without_wait_callback()

    def differences(self, streams: dict[str, str]) -> dict[str, TableDiff]:
        """Per stream (stream → source table), how its table differs; only those that do."""
        found = {}
        for stream, table in streams.items():
            diff = self.compare(stream, table)
            if diff:
                found[stream] = diff
        return found

    def compare(self, stream: str, table: str) -> TableDiff:
        try:
            return self._compare(stream, table)
        finally:
            _without_wait_callback()

    def _compare(self, stream: str, table: str) -> TableDiff:
        key = [column.name for column in genius.TABLES[table].primary_key.columns]
        columns = self._compared_columns(stream, table, key)
        if any(isinstance(genius.TABLES[table].c[k].type, sa.String) for k in key):
            return self._compare_rows(stream, table, key, columns)
        source = reladiff.connect_to_table(self.source, table, tuple(key), extra_columns=columns)
        loaded = self._warehouse_segment(stream, key, columns)
        diff = reladiff.diff_tables(source, loaded, threaded=False, skip_sort_results=True)
        return _by_key(diff, len(key))

    def _warehouse_segment(self, stream: str, key: list[str], columns: tuple) -> TableSegment:
        return reladiff.connect_to_table(
            self.warehouse,
            f"{self.schema}.{stream}",
            tuple(key),
            extra_columns=columns,
            where="_sdc_deleted_at IS NULL",
        )

    def _compared_columns(self, stream: str, table: str, key: list[str]) -> tuple[str, ...]:
        with psycopg2.connect(self.warehouse_url) as connection, connection.cursor() as cursor:
            cursor.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = %s AND table_name = %s",
                (self.schema, stream),
            )
            loaded = {row[0] for row in cursor.fetchall()}
        source = genius.TABLES[table]
        with self.engine.connect() as connection:
            return tuple(
                column.name
                for column in source.c
                if column.name in loaded
                and column.name not in key
                and not _holds_zero_dates(connection, source, column)
            )

    def _compare_rows(
        self, stream: str, table: str, key: list[str], columns: tuple[str, ...]
    ) -> TableDiff:
        """A text-keyed table, compared here: reladiff 0.6.0 cannot key on text."""
        names = [*key, *columns]
        with self.engine.connect() as connection:
            source_table = genius.TABLES[table]
            rows = connection.execute(sa.select(*(source_table.c[n] for n in names))).all()
        source = {tuple(_plain(v) for v in row[: len(key)]): row[len(key) :] for row in rows}
        quoted = ", ".join(f'"{name}"' for name in names)
        with psycopg2.connect(self.warehouse_url) as pg, pg.cursor() as cursor:
            cursor.execute(
                f'SELECT {quoted} FROM "{self.schema}"."{stream}" WHERE _sdc_deleted_at IS NULL'
            )
            loaded = {tuple(_plain(v) for v in row[: len(key)]): row[len(key) :] for row in cursor}
        both = source.keys() & loaded.keys()
        return TableDiff(
            missing=_keys(source.keys() - loaded.keys()),
            extra=_keys(loaded.keys() - source.keys()),
            differing=_keys(
                k for k in both if [_plain(v) for v in source[k]] != [_plain(v) for v in loaded[k]]
            ),
        )


def _without_wait_callback() -> None:
    """sqeleton sets `psycopg2.extras.wait_select` for every connection of the process."""
    psycopg2.extensions.set_wait_callback(None)


def _plain(value: t.Any) -> str:
    """One text form on both sides: a DATETIME (naive, UTC) and a timestamptz alike."""
    if isinstance(value, datetime.datetime):
        aware = value if value.tzinfo else value.replace(tzinfo=datetime.timezone.utc)
        return aware.astimezone(datetime.timezone.utc).isoformat()
    return canon(value)


def _holds_zero_dates(connection: sa.Connection, table: sa.Table, column: sa.Column) -> bool:
    if not isinstance(column.type, sa.Date | sa.DateTime):
        return False
    text = sa.cast(column, sa.String)
    found = connection.execute(
        sa.select(sa.func.count()).select_from(table).where(text.like("0000%"))
    )
    return bool(found.scalar())


def _by_key(diff: t.Iterable[tuple[str, tuple]], width: int) -> TableDiff:
    """reladiff's ('-', row) of the source and ('+', row) of the warehouse, by key (the
    row's first `width` values, as text: numbers made ints again)."""
    sides: dict[t.Any, set[str]] = {}
    for sign, row in diff:
        key = tuple(int(v) if str(v).lstrip("-").isdigit() else v for v in row[:width])
        sides.setdefault(key[0] if width == 1 else key, set()).add(sign)
    return TableDiff(
        missing={k for k, s in sides.items() if s == {"-"}},
        extra={k for k, s in sides.items() if s == {"+"}},
        differing={k for k, s in sides.items() if s == {"-", "+"}},
    )


def _keys(keys: t.Iterable[tuple]) -> set:
    return {k[0] if len(k) == 1 else k for k in keys}
