"""Open Postgres connections from the target's settings, never leaking the password.

Either the discrete settings (`host`, `port`, `user`, `password`, `database`, `sslmode`) or
one `sqlalchemy_url` describe the server. The URL may carry a SQLAlchemy driver suffix
(`postgresql+psycopg2://`), which libpq does not understand, so it is stripped. Errors from
libpq are re-raised as one line that names the server but not the password.
"""

from __future__ import annotations

import typing as t
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import psycopg2.extensions

from target_warehouse.errors import ConfigurationError

_URL_SCHEMES = ("postgresql", "postgres")


def libpq_url(sqlalchemy_url: str) -> str:
    """A libpq connection URI from a SQLAlchemy-style URL."""
    parts = urlsplit(sqlalchemy_url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme not in _URL_SCHEMES:
        raise ConfigurationError(
            f"sqlalchemy_url has scheme '{parts.scheme}', not a Postgres URL",
            fix="use postgresql://user:password@host:port/database",
        )
    return urlunsplit(("postgresql", *parts[1:]))


def connect_kwargs(config: t.Mapping[str, t.Any]) -> dict[str, t.Any]:
    """psycopg2.connect keyword arguments for the configured server."""
    kwargs: dict[str, t.Any] = {"application_name": "target-warehouse", "connect_timeout": 30}
    if config.get("sqlalchemy_url"):
        kwargs["dsn"] = libpq_url(config["sqlalchemy_url"])
    else:
        for setting, keyword in (
            ("host", "host"),
            ("port", "port"),
            ("user", "user"),
            ("password", "password"),
            ("database", "dbname"),
        ):
            if config.get(setting) not in (None, ""):
                kwargs[keyword] = config[setting]
    if config.get("sslmode"):
        kwargs["sslmode"] = config["sslmode"]
    return kwargs


def describe_server(config: t.Mapping[str, t.Any]) -> str:
    """Where the target connects, for messages: host, port and database, no credentials."""
    if config.get("sqlalchemy_url"):
        parts = urlsplit(config["sqlalchemy_url"])
        host = parts.hostname or "local socket"
        database = parts.path.lstrip("/") or "default database"
        return f"{host}:{parts.port or 5432}/{database}"
    host = config.get("host") or "local socket"
    return f"{host}:{config['port']}/{config.get('database') or 'default database'}"


def _secrets(config: t.Mapping[str, t.Any]) -> list[str]:
    """Every secret the settings hold, to scrub from messages."""
    secrets = [str(config["password"])] if config.get("password") else []
    if config.get("sqlalchemy_url"):
        url_password = urlsplit(config["sqlalchemy_url"]).password
        if url_password:
            secrets.append(url_password)
    return secrets


def connect(config: t.Mapping[str, t.Any]) -> psycopg2.extensions.connection:
    """An open connection in UTC with a clear one-line error when the server refuses."""
    try:
        connection = psycopg2.connect(**connect_kwargs(config))
    except psycopg2.OperationalError as exc:
        reason = " ".join(str(exc).split())
        for secret in _secrets(config):
            reason = reason.replace(secret, "***")
        raise ConfigurationError(
            f"cannot connect to Postgres at {describe_server(config)}: {reason}",
            fix="check host, port, user, password, database and sslmode (or sqlalchemy_url)",
        ) from None
    with connection.cursor() as cursor:
        cursor.execute("SET TIME ZONE 'UTC'")
    connection.commit()
    return connection
