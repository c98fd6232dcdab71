"""The Genius tables in a real MariaDB (or GENIUS_TEST_URL) and tap settings for them."""

from __future__ import annotations

import pytest
import sqlalchemy as sa


@pytest.fixture
def genius_config(mariadb_server, genius_db):
    """Settings for the freshly seeded database; small chunks so chunk edges are crossed."""
    return {**mariadb_server.settings(), "chunk_size": 40}


def rows(engine: sa.Engine, sql: str) -> list[dict]:
    """Rows of a query as dicts."""
    with engine.connect() as connection:
        return [dict(row._mapping) for row in connection.execute(sa.text(sql))]


def table_ids(engine: sa.Engine, table: str, key: str = "id") -> list:
    """Every key in a table, ascending: what a full read must emit (the story's rows too)."""
    return [row[key] for row in rows(engine, f"SELECT {key} FROM `{table}` ORDER BY {key}")]


def ids(records: list[dict], *key: str) -> list:
    """The key of each record (a tuple for composite keys), in emitted order."""
    if len(key) == 1:
        return [record[key[0]] for record in records]
    return [tuple(record[name] for name in key) for record in records]
