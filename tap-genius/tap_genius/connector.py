"""The connection to the Genius database: MySQL 8 or MariaDB through PyMySQL, or SQLite.

The URL is built as a SQLAlchemy `URL` object, never as a string, so the password is never
part of a string that could end up in a log or an error. Connection problems become one
`GeniusConnectionError` line that says what to fix: unreachable host (with the timeout
that ran out), refused credentials, unknown database.
"""

from __future__ import annotations

import functools
import typing as t

import pymysql.converters
import sqlalchemy as sa
from pymysql.constants import FIELD_TYPE
from singer_sdk.connectors import SQLConnector
from singer_sdk.connectors.sql import SQLToJSONSchema

# MySQL client error codes (mysql/errmsg.h, mysqld_error.h) and what they mean for the user.
ACCESS_DENIED = 1045
UNKNOWN_DATABASE = 1049
CANNOT_CONNECT = 2003
LOST_CONNECTION = (2006, 2013, 2055)


# DATETIME, TIMESTAMP, DATE and TIME arrive as the server writes them: already ISO 8601 (TIME
# already HH:MM:SS), exact, and zero dates visible as such. PyMySQL's own parsing into
# datetime objects was a fifth of the tap's time, only for the values to be written back.
TEMPORAL_AS_TEXT = {
    **pymysql.converters.conversions,
    **{
        kind: str
        for kind in (FIELD_TYPE.DATETIME, FIELD_TYPE.TIMESTAMP, FIELD_TYPE.DATE, FIELD_TYPE.TIME)
    },
}


class GeniusConnectionError(Exception):
    """The database could not be used: a wrong database name, a failing server."""


class GeniusCredentialsError(GeniusConnectionError):
    """The server refused the user and password."""


class GeniusUnreachableError(GeniusConnectionError):
    """Nothing answered at the host and port in time."""


class GeniusTypes(SQLToJSONSchema):
    """Column types to JSON schema: the SDK's mapping, without string lengths (a target
    must not size columns from today's longest value; nothing may be truncated)."""

    def to_jsonschema(self, column_type: sa.types.TypeEngine) -> dict:
        schema = dict(super().to_jsonschema(column_type))
        schema.pop("maxLength", None)
        return schema


class GeniusConnector(SQLConnector):
    """Engine and reflection for the Genius database."""

    sql_to_jsonschema_converter = GeniusTypes

    def url(self) -> sa.URL:
        """`sqlalchemy_url` when set, else one made from host, port, user, password, database."""
        config = self.config
        if config.get("sqlalchemy_url"):
            return sa.make_url(config["sqlalchemy_url"])
        missing = [name for name in ("host", "user", "database") if not config.get(name)]
        if missing:
            raise GeniusConnectionError(
                f"no database to connect to: set {', '.join(missing)} (or sqlalchemy_url)"
            )
        return sa.URL.create(
            "mysql+pymysql",
            username=config["user"],
            password=config.get("password"),
            host=config["host"],
            port=int(config["port"]),
            database=config["database"],
            query={"charset": "utf8mb4"},
        )

    def connect_args(self, url: sa.URL) -> dict[str, t.Any]:
        """Timeouts and TLS for MySQL; nothing for SQLite."""
        if url.get_backend_name() != "mysql":
            return {}
        seconds = int(self.config["connect_timeout_seconds"])
        arguments: dict[str, t.Any] = {
            "conv": TEMPORAL_AS_TEXT,
            "connect_timeout": seconds,
            "read_timeout": int(self.config["read_timeout_seconds"]),
        }
        tls = {
            name: self.config[f"ssl_{name}"]
            for name in ("ca", "cert", "key")
            if self.config.get(f"ssl_{name}")
        }
        if tls or self.config.get("ssl"):
            arguments["ssl"] = {**tls, "check_hostname": bool(self.config["ssl_verify"])}
        return arguments

    @functools.cached_property
    def engine(self) -> sa.Engine:
        """The tap's one engine (one connection pool), for the SDK and the streams alike."""
        url = self.url()
        return sa.create_engine(url, pool_pre_ping=True, connect_args=self.connect_args(url))

    def create_engine(self) -> sa.Engine:
        """The SDK's hook for its own engine: the same one."""
        return self.engine

    def where(self) -> str:
        """The database as a user names it (host:port/database or the SQLite file)."""
        url = self.url()
        if url.get_backend_name() == "sqlite":
            return f"SQLite file {url.database}"
        return f"{url.host}:{url.port or 3306}/{url.database}"

    def explain(self, error: sa.exc.DBAPIError) -> GeniusConnectionError:
        """One line for a connection failure: what happened and which setting to check."""
        code = error.orig.args[0] if error.orig is not None and error.orig.args else None
        detail = str(error.orig.args[-1]) if error.orig is not None and error.orig.args else ""
        where = self.where()
        if code == ACCESS_DENIED:
            return GeniusCredentialsError(
                f"the Genius database at {where} refused user {self.config.get('user')!r}"
            )
        if code == UNKNOWN_DATABASE:
            return GeniusConnectionError(f"{where}: {detail}")
        if code == CANNOT_CONNECT:
            seconds = int(self.config["connect_timeout_seconds"])
            return GeniusUnreachableError(
                f"cannot reach the Genius database at {where} within the {seconds} s "
                f"connect timeout ({detail.split(' (')[-1].rstrip(')')})"
            )
        return GeniusConnectionError(f"the Genius database at {where} failed: {detail}")

    def reflect(self, names: t.Iterable[str]) -> dict[str, sa.Table]:
        """Those of the tables `names` the database has, as it declares them (columns,
        types, keys); the caller decides what a missing one means."""
        metadata = sa.MetaData()
        try:
            present = set(sa.inspect(self.engine).get_table_names())
            metadata.reflect(self.engine, only=[name for name in names if name in present])
        except sa.exc.DBAPIError as error:
            raise self.explain(error) from None
        return dict(metadata.tables)
