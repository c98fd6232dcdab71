"""Reading one Genius table: keyset chunks, exact values, resumable state, reconnects.

The old sync paged with LIMIT/OFFSET on `updated_at > since`, which skips rows that share a
timestamp at a page edge and slows down with depth. Here every read is a keyset read:

- incremental streams are ordered by (change, key) and each chunk continues strictly after
  the last (change, key) read, so equal timestamps across a chunk edge are neither skipped
  nor repeated; a new run starts at the bookmark, inclusive (rows at the bookmark's second
  are read again, duplicates by key only);
- rows whose change column is NULL cannot be placed on that timeline: they are read in a
  pass of their own, ordered by key, and the state remembers the last key of that pass so a
  later run reads only rows added since;
- full-table streams are ordered by key.

A reconciliation pass (`reconcile: true`) reads every table whole by key, whatever the
bookmarks (and `start_date`, `end_date`), between RECONCILE messages (suite_common.reconcile):
the target retires every key it did not receive and counts the rows it had to repair, which
a stamp-based delta never sees (deleted rows, changes that left `updated_at` alone).

Each chunk is one query streamed through a server-side cursor (constant memory); a dropped
connection is retried from the last row read. Values: DECIMAL stays a Decimal, DATETIME
gets the database's zone (setting `timezone`), TIME becomes `HH:MM:SS`, MySQL's zero dates
become null and are counted in the log.
"""

from __future__ import annotations

import datetime
import functools
import itertools
import re
import time
import typing as t
from collections import Counter
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from singer_sdk import Stream
from suite_common.contacts import ContactColumns
from suite_common.http import backoff_seconds
from suite_common.messages import LeanRecordMessages
from suite_common.moments import utc_microseconds
from suite_common.new_fields import keeps_new_fields
from suite_common.reconcile import ReadWindow, ReconciledStream
from suite_common.schemas import SchemaOverCatalog
from suite_common.sdk_adapter import StreamHooks
from suite_common.state import SkipNullBookmarks

from tap_genius.connector import LOST_CONNECTION, GeniusConnectionError, GeniusConnector
from tap_genius.joins import Lookup

if t.TYPE_CHECKING:
    from singer_sdk import Tap
    from singer_sdk.helpers.types import Context

SECRET_LOOKING = re.compile(r"ssn|passw|secret|token|api_?key|salt|hash|private", re.IGNORECASE)
"""Column names a new column is never read under (a DBA's `api_token`, an `ssn`)."""
CHANGED_AT = "changed_at"
"""The property holding the change value when it falls back over several columns."""
UNSTAMPED_AFTER = "unstamped_key_after"
"""State: the last key read among rows whose change column is NULL."""


def clock_time(value: t.Any) -> str | None:
    """MySQL TIME (text from MySQL, a time from SQLite, a timedelta from PyMySQL's own
    conversion) as [-]HH:MM:SS."""
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="seconds")
    seconds = int(value.total_seconds())
    sign, seconds = ("-", -seconds) if seconds < 0 else ("", seconds)
    return f"{sign}{seconds // 3600:02d}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


class GeniusTable(
    SchemaOverCatalog, ContactColumns, SkipNullBookmarks, LeanRecordMessages, StreamHooks, Stream
):
    """A Genius table (or a view of it) read with keyset pagination; `GeniusStream` makes
    it reconcilable (`reconciling` comes from there)."""

    reconciling: bool

    phone_fields = ("phone1", "phone2")
    email_fields = ("email", "personal_email")

    table_name: str = ""
    """The source table."""
    key: tuple[str, ...] = ("id",)
    columns: tuple[str, ...] = ()
    """The columns to read, as the old sync selected them."""
    change_columns: tuple[str, ...] = ("updated_at",)
    """The change column, or several tried in order (COALESCE); () for a full-table stream."""
    credential_columns: tuple[str, ...] = ()
    """Left out unless `include_credential_columns` is set."""
    reads_new_columns = True
    """Whether columns the table has beyond `columns` are read too (`keep_new_fields`):
    False where the table is known to hold columns that must never be read."""
    lookups: tuple[Lookup, ...] = ()
    """Values joined in from other tables (see `joins`)."""

    @property
    def is_sorted(self) -> bool:
        """The change timeline comes in order; a reconciliation pass reads by key."""
        return not self.reconciling

    @property
    def check_sorted(self) -> bool:
        """Local DATETIMEs repeat an hour when clocks go back, so outside UTC the timeline
        is ordered by local time and the bookmark may step back (rows are read again)."""
        return self.in_utc

    def __init__(self, tap: Tap, tables: dict[str, sa.Table], connector: GeniusConnector) -> None:
        self.connector = connector
        self.settings = tap.config  # `self.config` exists only after Stream.__init__
        self.warn = tap.logger.getChild(self.name).warning  # `self.logger` exists only after
        self.note = tap.logger.getChild(self.name).info
        self.table = tables[self.table_name]
        self.tables = tables
        self.change = self._present_change_columns(self._change_columns(tap.config))
        self.zero_dates: Counter[str] = Counter()
        super().__init__(tap, schema=self.table_schema())
        self.primary_keys = self.key
        if self.change:
            self.replication_key = self.change[0] if len(self.change) == 1 else CHANGED_AT

    # Discovery ------------------------------------------------------------------------------

    def source(self) -> sa.FromClause:
        """What the stream reads from: its table, joined to the lookups' tables."""
        return self._joined[0]

    def joined_columns(self) -> dict[str, sa.ColumnElement]:
        """Columns from the joined tables, by name (e.g. a HubSpot id)."""
        return self._joined[1]

    @functools.cached_property
    def _joined(self) -> tuple[sa.FromClause, dict[str, sa.ColumnElement]]:
        """Each lookup joined in; one the database cannot serve is warned about and null."""
        source: sa.FromClause = self.table
        columns: dict[str, sa.ColumnElement] = {}
        for lookup in self.lookups:
            gaps = lookup.missing(self.table, self.tables)
            if gaps:
                self.warn(
                    "%s: the database has no %s, so %s is null",
                    self.name,
                    ", ".join(gaps),
                    lookup.name,
                )
                columns[lookup.name] = lookup.null()
                continue
            source, columns[lookup.name] = lookup.join(source, self.table, self.tables)
        return source, columns

    def _change_columns(self, config: t.Mapping[str, t.Any]) -> tuple[str, ...]:
        override = (config.get("change_columns") or {}).get(self.name)
        if override is None:
            return self.change_columns
        return (override,) if isinstance(override, str) else tuple(override)

    def _present_change_columns(self, names: tuple[str, ...]) -> tuple[str, ...]:
        """The change columns the table has; without any, the table is read whole."""
        present = tuple(name for name in names if name in self.table.c)
        if names and not present:
            self.warn(
                "%s has no change column %s: the stream is read whole on every run",
                self.table_name,
                " or ".join(names),
            )
        elif len(present) < len(names):
            absent = ", ".join(name for name in names if name not in present)
            self.warn("%s has no change column %s", self.table_name, absent)
        return present

    @functools.cached_property
    def read_columns(self) -> dict[str, sa.ColumnElement]:
        """Every column the stream reads, by property name, in schema order."""
        include_credentials = bool(self.settings.get("include_credential_columns"))
        names = [
            name
            for name in self.columns
            if include_credentials or name not in self.credential_columns
        ]
        missing = [name for name in names if name not in self.table.c]
        if missing:
            self.warn("%s has no column %s: not read", self.table_name, ", ".join(missing))
        columns: dict[str, sa.ColumnElement] = {
            name: self.table.c[name] for name in names if name in self.table.c
        }
        columns.update(self.new_columns())
        columns.update(self.joined_columns())
        return columns

    def new_columns(self) -> dict[str, sa.ColumnElement]:
        """Columns the table gained beyond the stream's list, read so that a column added
        to a Genius table arrives in the warehouse by itself; never one whose name looks
        like a credential or a personal number, nor a credential column."""
        if not self.reads_new_columns or not keeps_new_fields(self.settings):
            return {}
        listed = {
            *self.columns,
            *self.credential_columns,
            *(lookup.name for lookup in self.lookups),
        }
        found = {}
        for column in self.table.c:
            if column.name in listed:
                continue
            if SECRET_LOOKING.search(column.name):
                self.warn(
                    "%s.%s is not among the stream's columns and looks like a credential or a "
                    "personal number: not read",
                    self.table_name,
                    column.name,
                )
                continue
            found[column.name] = column
        if found:
            self.note(
                "New columns: %s has %s, which the stream does not list; read as columns "
                "(keep_new_fields)",
                self.table_name,
                ", ".join(found),
            )
        return found

    def table_schema(self) -> dict:
        mapping = self.connector.sql_to_jsonschema
        properties = {}
        for name, column in self.read_columns.items():
            schema = dict(mapping.to_jsonschema(column.type))
            types = schema["type"] if isinstance(schema["type"], list) else [schema["type"]]
            schema["type"] = types if name in self.key else [*types, "null"]
            properties[name] = schema
        if len(self.change) > 1:
            properties[CHANGED_AT] = {
                "type": ["string", "null"],
                "format": "date-time",
                "description": f"{' or else '.join(self.change)}: the change this sync follows",
            }
        return {"type": "object", "properties": properties, "required": list(self.key)}

    # Reading --------------------------------------------------------------------------------

    @functools.cached_property
    def zone(self) -> datetime.tzinfo:
        return ZoneInfo(str(self.config["timezone"]))

    @functools.cached_property
    def in_utc(self) -> bool:
        """Whether the database writes its DATETIMEs in UTC."""
        return str(self.zone) in ("UTC", "Etc/UTC")

    @functools.cached_property
    def change_expression(self) -> sa.ColumnElement | None:
        if not self.change:
            return None
        columns = [self.table.c[name] for name in self.change]
        return columns[0] if len(columns) == 1 else sa.func.coalesce(*columns)

    @functools.cached_property
    def key_columns(self) -> list[sa.ColumnElement]:
        return [self.table.c[name] for name in self.key]

    def count_rows(self) -> int:
        """Rows in the source table (for `--test`)."""
        with self.connector.engine.connect() as connection:
            return int(
                connection.execute(sa.select(sa.func.count()).select_from(self.table)).scalar()
            )

    def selected_columns(self) -> dict[str, sa.ColumnElement]:
        """The columns the catalog selects (keys and change columns always)."""
        mask = self.mask
        return {
            name: column
            for name, column in self.read_columns.items()
            if name in self.key or mask.get(("properties", name), True)
        }

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """Unstamped rows, then the change timeline (or every row, for full-table streams);
        at most `max_records` rows."""
        limit = int(self.config.get("max_records") or 0)
        records = self._records(context)
        if limit:
            records = itertools.islice(records, limit)
        yield from records
        if self.zero_dates:
            counts = ", ".join(f"{count} in {name}" for name, count in self.zero_dates.items())
            self.logger.info("%s: zero dates read as null: %s", self.name, counts)

    def _records(self, context: Context | None) -> t.Iterator[dict]:
        columns = self.selected_columns()
        convert = self._converter(columns)
        if self.reconciling or self.change_expression is None:
            yield from map(convert, self._whole_table(columns))
            return
        yield from self._unstamped(columns, convert)
        start = self.get_starting_timestamp(context)
        condition = self.change_expression.is_not(None)
        if start is not None:
            condition = sa.and_(condition, self.change_expression >= self._database_time(start))
        end = self.config.get("end_date")
        if end:
            end_time = datetime.datetime.fromisoformat(end)
            condition = sa.and_(condition, self.change_expression < self._database_time(end_time))
        changed = self.change_expression.label("_change")
        yield from map(convert, self._keyset(columns, condition, [changed], None))

    def _whole_table(self, columns: dict[str, sa.ColumnElement]) -> t.Iterator[sa.Row]:
        """Every row by key; in a pass over a stamped table, with the change value after
        the columns (the converter's `changed_at`)."""
        ignored = [name for name in ("start_date", "end_date") if self.config.get(name)]
        if self.reconciling and ignored:
            self.logger.info(
                "%s: a reconciliation pass reads the table whole (%s do not apply)",
                self.name,
                " and ".join(ignored),
            )
        extra = []
        if self.change_expression is not None:
            extra = [self.change_expression.label("_change")]
        return self._keyset(columns, sa.true(), [], None, extra)

    def _unstamped(self, columns: dict[str, sa.ColumnElement], convert: t.Callable) -> t.Iterator:
        """Rows without a change value, by key, after those an earlier run read."""
        state = self.stream_state
        after = state.get(UNSTAMPED_AFTER)
        last = None
        condition = self.change_expression.is_(None)
        for row in self._keyset(columns, condition, [], tuple(after) if after else None):
            last = row
            yield convert(row)
        if last is not None:
            state[UNSTAMPED_AFTER] = [last._mapping[name] for name in self.key]

    def _database_time(self, moment: datetime.datetime) -> datetime.datetime:
        """A moment as the database writes it: naive, in the database's zone."""
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=datetime.timezone.utc)
        return moment.astimezone(self.zone).replace(tzinfo=None)

    def _keyset(
        self,
        columns: dict[str, sa.ColumnElement],
        condition: sa.ColumnElement,
        leading: list[sa.ColumnElement],
        after: tuple | None,
        extra: list[sa.ColumnElement] | None = None,
    ) -> t.Iterator[sa.Row]:
        """Rows matching `condition` ordered by (*leading, *key), in chunks, each continuing
        strictly after the last row read; a dropped connection resumes from there. Each
        row holds the columns, then `leading`, then `extra`."""
        order = [*leading, *self.key_columns]
        chunk = int(self.config["chunk_size"])
        selected = [self._as_read(c).label(n) for n, c in columns.items()]
        statement = sa.select(*selected, *leading, *(extra or []))
        statement = statement.select_from(self.source())
        statement = statement.where(condition).order_by(*order).limit(chunk)
        positions = [*(c.name for c in leading), *self.key]
        failures = 0
        while True:
            query = statement
            if after is not None:
                query = query.where(_strictly_after(order, after))
            read, last = 0, None
            try:
                for row in self._stream(query):
                    last = row
                    read += 1
                    yield row
            except sa.exc.DBAPIError as error:
                failures = self._retry_or_raise(error, failures)
                continue
            finally:
                if last is not None:  # where the next chunk, or a reconnect, continues
                    after = tuple(last._mapping[name] for name in positions)
            if read < chunk:
                return

    def _as_read(self, column: sa.ColumnElement) -> sa.ColumnElement:
        """MySQL TIME arrives as text (see the connector); SQLAlchemy's own TIME processing
        expects a timedelta, so the column is read as text there."""
        if isinstance(column.type, sa.Time) and self.connector.engine.dialect.name == "mysql":
            return sa.type_coerce(column, sa.String)
        return column

    def _stream(self, query: sa.Select) -> t.Iterator[sa.Row]:
        """One query through a server-side cursor (rows arrive as they are read)."""
        with self.connector.engine.connect() as connection:
            streaming = connection.execution_options(stream_results=True, yield_per=2000)
            yield from streaming.execute(query)

    def _retry_or_raise(self, error: sa.exc.DBAPIError, failures: int) -> int:
        code = error.orig.args[0] if error.orig is not None and error.orig.args else None
        lost = error.connection_invalidated or code in LOST_CONNECTION
        retries = int(self.config["max_retries"])
        if not lost:
            raise self.connector.explain(error) from None
        if failures >= retries:
            raise GeniusConnectionError(
                f"lost the connection to {self.connector.where()} {failures + 1} times "
                f"reading {self.table_name}; the next run resumes from the saved state"
            ) from None
        wait = backoff_seconds(float(self.config["backoff_base_seconds"]), failures + 1)
        self.logger.warning(
            "Lost the connection reading %s (%s); reconnecting in %.0f s to resume from the "
            "last row read",
            self.table_name,
            code,
            wait,
        )
        time.sleep(wait)
        return failures + 1

    def _converter(self, columns: dict[str, sa.ColumnElement]) -> t.Callable[[sa.Row], dict]:
        """Row → record: datetimes as UTC ISO 8601, TIME as HH:MM:SS, zero dates as null
        (counted). A row of the change timeline carries the database's change value after
        the columns; it becomes `changed_at` when the change falls back over columns."""
        names = list(columns)
        width = len(names)
        temporal = (datetime.datetime, datetime.date, datetime.time)
        kinds = [
            (name, kind)
            for name, column in columns.items()
            if (kind := _python_type(column.type)) in temporal
        ]
        stamp = self.stamp
        zero_dates = self.zero_dates
        fallback = len(self.change) > 1

        def convert(row: sa.Row) -> dict:
            record = dict(zip(names, row, strict=False))
            for name, kind in kinds:
                value = record[name]
                if value is None:
                    continue
                if kind is datetime.time:
                    record[name] = clock_time(value)
                elif _zero_date(value):
                    zero_dates[name] += 1
                    record[name] = None
                elif kind is datetime.datetime:
                    record[name] = stamp(value)
                elif isinstance(value, datetime.date):
                    record[name] = value.isoformat()
            if fallback:
                change = row[width] if len(row) > width else None
                real = change is not None and not _zero_date(change)
                record[CHANGED_AT] = stamp(change) if real else None
            return record

        return convert

    @functools.cached_property
    def stamp(self) -> t.Callable[[t.Any], str]:
        """A DATETIME value (text from MySQL, a datetime from SQLite) as UTC ISO 8601 with
        microseconds: the form the SDK keeps bookmarks in, so they compare as text."""
        zone = self.zone
        if self.in_utc:
            return utc_microseconds

        def zoned_text(value: t.Any) -> str:
            moment = datetime.datetime.fromisoformat(value) if isinstance(value, str) else value
            local = moment.replace(tzinfo=zone)
            return local.astimezone(datetime.timezone.utc).isoformat(timespec="microseconds")

        return zoned_text


class GeniusStream(ReconciledStream, GeniusTable):
    """A Genius stream: its table, read whole in a reconciliation pass (the mixin comes
    first, so it sees each read end)."""

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """A reconciliation pass reads the table whole."""
        return ReadWindow.whole()


def _zero_date(value: t.Any) -> bool:
    """Whether a value is one of MySQL's zero dates (`0000-00-00`), or a date with a zero
    month or day (`2020-00-00`): text, where a real date would have been converted or is
    checked here first."""
    return value.__class__ is str and (value[0] == "0" or value[5:7] == "00" or value[8:10] == "00")


def _strictly_after(columns: list[sa.ColumnElement], values: tuple) -> sa.ColumnElement:
    """(c1, c2, …) > (v1, v2, …) spelt out as `c1 >= v1 AND (c1 > v1 OR (c1 = v1 AND …))`.

    MariaDB does not read a row comparison `(c1, c2) > (v1, v2)` in index order: it spent
    about a second on each 100,000-row chunk of a 1M table before the first row. Spelt out,
    the leading `c1 >= v1` is an index range that streams at once."""
    first, value = columns[0], values[0]
    if len(columns) == 1:
        return first > value
    rest = _strictly_after(columns[1:], values[1:])
    return sa.and_(first >= value, sa.or_(first > value, sa.and_(first == value, rest)))


def _python_type(column_type: sa.types.TypeEngine) -> type | None:
    try:
        return column_type.python_type
    except NotImplementedError:
        return None


__all__ = ["GeniusConnectionError", "GeniusStream"]
