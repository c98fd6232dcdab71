"""tap_genius.joins: the joined values, one row per source row, and what a database that
lacks a join's table or column is missing (SQLAlchemy on an in-memory SQLite database: the
joins are plain SQL, the MariaDB runs are in test_streams)."""

from __future__ import annotations

import sqlalchemy as sa
from tap_genius.joins import PRIMARY_USER, hubspot_id


def database() -> tuple[sa.Engine, dict[str, sa.Table]]:
    engine = sa.create_engine("sqlite://")
    meta = sa.MetaData()
    tables = {
        "prospect": sa.Table(
            "prospect", meta, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("third_party_source_id", sa.Integer),
        ),
        "third_party_source": sa.Table(
            "third_party_source", meta, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("third_party_source_type_id", sa.Integer),
            sa.Column("third_party_id", sa.String),
        ),
        "third_party_source_type": sa.Table(
            "third_party_source_type", meta, sa.Column("id", sa.Integer, primary_key=True),
            sa.Column("label", sa.String),
        ),
    }  # fmt: skip
    meta.create_all(engine)
    with engine.begin() as connection:
        connection.execute(tables["third_party_source_type"].insert(), [
            {"id": 1, "label": "hubspot"}, {"id": 2, "label": "salesforce"},
        ])  # fmt: skip
        connection.execute(tables["third_party_source"].insert(), [
            {"id": 10, "third_party_source_type_id": 1, "third_party_id": "hs-1"},
            {"id": 11, "third_party_source_type_id": 2, "third_party_id": "sf-1"},
        ])  # fmt: skip
        connection.execute(tables["prospect"].insert(), [
            {"id": 1, "third_party_source_id": 10}, {"id": 2, "third_party_source_id": 11},
            {"id": 3, "third_party_source_id": None}, {"id": 4, "third_party_source_id": 99},
        ])  # fmt: skip
    return engine, tables


def test_the_hubspot_id_is_joined_only_for_hubspot_sources_one_row_per_prospect():
    engine, tables = database()
    lookup = hubspot_id("hubspot_id")
    prospect = tables["prospect"]
    assert lookup.missing(prospect, tables) == []
    source, value = lookup.join(prospect, prospect, tables)
    query = sa.select(prospect.c.id, value.label("hubspot_id")).select_from(source)
    with engine.connect() as connection:
        found = connection.execute(query.order_by(prospect.c.id)).all()
    assert [tuple(row) for row in found] == [(1, "hs-1"), (2, None), (3, None), (4, None)]


def test_what_a_database_lacks_for_a_join_is_named():
    _, tables = database()
    prospect = tables["prospect"]
    without_types = {k: v for k, v in tables.items() if k != "third_party_source_type"}
    assert hubspot_id("hubspot_id").missing(prospect, without_types) == [
        "table third_party_source_type"
    ]
    assert PRIMARY_USER.missing(prospect, tables) == [
        "prospect.user_associations_id",
        "table users_userassociations",
    ]
    with sa.create_engine("sqlite://").connect() as connection:
        assert connection.execute(sa.select(PRIMARY_USER.null())).scalar() is None
