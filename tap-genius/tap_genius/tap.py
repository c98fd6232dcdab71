"""tap-genius: settings, the 18 streams, the connection test and one-line errors."""

from __future__ import annotations

import functools
import typing as t

import sqlalchemy as sa
from singer_sdk import Stream
from singer_sdk import typing as th
from suite_common.cli import ErrorFix
from suite_common.isolation import StreamFailure, fail_fast_setting, selected_in_catalog
from suite_common.new_fields import keep_new_fields_setting
from suite_common.reconcile import reconcile_settings
from suite_common.settings import region_setting
from suite_common.tap import SuiteTap

from tap_genius.client import GeniusStream
from tap_genius.connector import (
    GeniusConnectionError,
    GeniusConnector,
    GeniusCredentialsError,
    GeniusUnreachableError,
)
from tap_genius.joins import JOIN_TABLES
from tap_genius.streams import STREAM_TYPES


class TapGenius(SuiteTap):
    """Singer tap for the Genius CRM database (MySQL 8, MariaDB, or SQLite for the demo)."""

    run_stopping_errors = (
        *SuiteTap.run_stopping_errors,
        GeniusCredentialsError,
        GeniusUnreachableError,
    )
    explained_errors = (*SuiteTap.explained_errors, GeniusConnectionError)

    name = "tap-genius"

    error_fixes: t.ClassVar[list[ErrorFix]] = [
        (
            GeniusCredentialsError,
            "set user and password (GENIUS_DB_USER, GENIUS_DB_PASSWORD) to a valid login",
        ),
        (
            GeniusUnreachableError,
            "check host and port (GENIUS_DB_HOST, GENIUS_DB_PORT) and that the server "
            "accepts connections from this machine",
        ),
        (
            GeniusConnectionError,
            "check database (GENIUS_DB_NAME) or sqlalchemy_url, and the server's state",
        ),
    ]
    """What ends the command in one line, and its fix (see `SuiteTap.run_command`)."""

    config_jsonschema = th.PropertiesList(
        th.Property("host", th.StringType, description="Database host (GENIUS_DB_HOST)."),
        th.Property("port", th.IntegerType, default=3306, description="GENIUS_DB_PORT."),
        th.Property("user", th.StringType, description="Database user (GENIUS_DB_USER)."),
        th.Property(
            "password",
            th.StringType,
            secret=True,
            description="Database password (GENIUS_DB_PASSWORD).",
        ),
        th.Property("database", th.StringType, description="Database name (GENIUS_DB_NAME)."),
        th.Property(
            "sqlalchemy_url",
            th.StringType,
            secret=True,
            description="Instead of host…database: one SQLAlchemy URL, e.g. "
            "mysql+pymysql://user:pass@host/genius or sqlite:///genius.sqlite.",
        ),
        th.Property("ssl", th.BooleanType, default=False, description="Connect with TLS."),
        th.Property("ssl_ca", th.StringType, description="CA bundle file for TLS."),
        th.Property("ssl_cert", th.StringType, description="Client certificate file."),
        th.Property("ssl_key", th.StringType, description="Client key file."),
        th.Property(
            "ssl_verify",
            th.BooleanType,
            default=True,
            description="Check the server certificate's host name.",
        ),
        th.Property(
            "connect_timeout_seconds",
            th.IntegerType,
            default=10,
            description="Give up connecting after this long (the old sync used 10 s).",
        ),
        th.Property(
            "read_timeout_seconds",
            th.IntegerType,
            default=600,
            description="Give up on a query whose next rows take longer than this to come.",
        ),
        th.Property(
            "timezone",
            th.StringType,
            default="UTC",
            description="Zone the database's DATETIME values are written in.",
        ),
        th.Property(
            "start_date",
            th.DateTimeType,
            description="Earliest change to read on a first sync (rows without a change "
            "value are always read once).",
        ),
        th.Property(
            "end_date", th.DateTimeType, description="Read changes before this moment only."
        ),
        th.Property("max_records", th.IntegerType, description="Stop each stream after N rows."),
        th.Property(
            "chunk_size",
            th.IntegerType,
            default=50_000,
            description="Rows per keyset query.",
        ),
        th.Property(
            "change_columns",
            th.ObjectType(additional_properties=th.CustomType({"type": ["string", "array"]})),
            description="Per stream, the change column(s) to follow instead of the default, "
            'e.g. {"appointments": "add_date", "leads": ["updated_at", "added_on"]}.',
        ),
        th.Property(
            "include_credential_columns",
            th.BooleanType,
            default=False,
            description="Read division_groups.paysimple_secret and mes_profile_key too.",
        ),
        th.Property(
            "max_retries",
            th.IntegerType,
            default=3,
            description="Reconnects after a dropped connection, each resuming at the last row.",
        ),
        th.Property(
            "backoff_base_seconds",
            th.NumberType,
            default=1.0,
            description="First wait before a reconnect, doubled each time.",
        ),
        region_setting(),
        *reconcile_settings(window=False),
        fail_fast_setting(),
        keep_new_fields_setting(
            "Read the columns a table has beyond those its stream lists, so that a column "
            "added to a Genius table arrives as a warehouse column on the next run (never "
            "user_data's, nor a column whose name looks like a credential or an SSN); false "
            "reads the listed columns only."
        ),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        """The 18 entities, typed from the database's own column declarations. An entity
        whose table or key the database lacks is left out with a warning."""
        connector = GeniusConnector(dict(self.config))
        names = {stream_type.table_name for stream_type in STREAM_TYPES} | set(JOIN_TABLES)
        tables = connector.reflect(names)
        readable = [s for s in STREAM_TYPES if self._readable(s, tables)]
        if not readable:
            raise GeniusConnectionError(
                f"{connector.where()} holds none of the Genius tables "
                f"({', '.join(s.table_name for s in STREAM_TYPES[:3])}, …)"
            )
        return [stream_type(self, tables, connector) for stream_type in readable]

    def _readable(self, stream_type: type[GeniusStream], tables: dict[str, sa.Table]) -> bool:
        table = tables.get(stream_type.table_name)
        if table is None:
            why = (
                f"the database has no table {stream_type.table_name}, or does not let user "
                f"{self.config.get('user')!r} read it"
            )
        else:
            absent = [name for name in stream_type.key if name not in table.c]
            if not absent:
                return True
            why = f"{stream_type.table_name} has no key column {', '.join(absent)}"
        self.left_out[stream_type.name] = why
        self.logger.warning("%s: %s; the stream is left out", stream_type.name, why)
        return False

    @functools.cached_property
    def left_out(self) -> dict[str, str]:
        """Streams discovery left out, and why."""
        return {}

    def unavailable_streams(self) -> list[StreamFailure]:
        """The streams left out that the catalog selects (a table dropped, renamed or
        hidden from the user since the catalog was made)."""
        return [
            StreamFailure(name, why)
            for name, why in self.left_out.items()
            if selected_in_catalog(self.input_catalog, name)
        ]

    def tables(self) -> list[GeniusStream]:
        """The tap's streams, each a Genius table."""
        return [stream for stream in self.streams.values() if isinstance(stream, GeniusStream)]

    def schema_drift(self) -> int:
        """`--test=schema`: the database's columns against the columns each stream reads
        (the types come from the columns themselves, so they cannot drift)."""
        found = 0
        for stream in self.tables():
            table = stream.table
            wanted = set(stream.columns)
            present = set(table.c.keys())
            for name in sorted(wanted - present):
                self.logger.warning("Drift: %s: %s has no column %s", stream.name, table.name, name)
                found += 1
            unread = sorted(present - wanted)
            if unread:
                self.logger.info(
                    "Drift: %s: %s has columns the stream does not read: %s",
                    stream.name,
                    table.name,
                    ", ".join(unread),
                )
        self.logger.info("Schema drift check: %d column(s) missing", found)
        return found

    def run_connection_test(self) -> bool:
        """`--test`: connect, and say how many rows each source table holds."""
        for stream in self.tables():
            rows = stream.count_rows()
            self.logger.info("%s (%s): %d rows", stream.name, stream.table_name, rows)
        self.logger.info("Connected to %s", next(iter(self.streams.values())).connector.where())
        return True


main = TapGenius.run_command
"""Console entry point: problems the user can fix end in one line, not a traceback."""


if __name__ == "__main__":
    main()
