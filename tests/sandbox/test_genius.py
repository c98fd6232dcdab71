"""The Genius database stand-in: real MariaDB tables with the quirks of old MySQL data."""

import datetime

import pymysql
import pytest
import sqlalchemy as sa

from sandbox import genius, story

REFERENCE_TABLES = {
    "appointment",
    "division",
    "user_data",
    "prospect",
    "lead",
    "quote",
    "service",
    "prospect_source",
    "appointment_type",
    "appointment_outcome",
    "appointment_to_service",
    "appointment_outcome_type",
    "division_group",
    "marketing_source",
    "marketing_source_type",
    "marketsharp_source",
    "marketsharp_marketing_source_map",
    "user_title",
}


def scalar(engine, sql):
    with engine.connect() as connection:
        return connection.execute(sa.text(sql)).scalar()


def test_the_18_source_tables_and_the_join_tables_exist(genius_db):
    names = set(sa.inspect(genius_db).get_table_names())
    assert names >= REFERENCE_TABLES
    assert {"third_party_source", "third_party_source_type", "users_userassociations"} <= names


def column_types(engine: sa.Engine) -> dict[tuple[str, str], str]:
    with engine.connect() as connection:
        found = connection.execute(
            sa.text(
                "SELECT table_name, column_name, column_type FROM information_schema.columns "
                "WHERE table_schema = DATABASE()"
            )
        )
        return {(row[0], row[1]): row[2] for row in found}


def test_column_types_are_realistic(genius_db):
    columns = column_types(genius_db)
    assert columns[("appointment", "time")] == "time"
    assert columns[("quote", "amount")] == "decimal(10,2)"
    assert columns[("appointment", "updated_at")] == "datetime"
    assert columns[("service", "id")] == "smallint(5) unsigned"
    assert columns[("appointment", "spouses_present")] == "tinyint(1)"
    keys = sa.inspect(genius_db).get_pk_constraint("appointment_to_service")["constrained_columns"]
    assert keys == ["appointment_id", "service_id"]
    assert sa.inspect(genius_db).get_pk_constraint("marketsharp_marketing_source_map")[
        "constrained_columns"
    ] == ["marketsharp_id"]


def columns_of(engine, table):
    return {column["name"]: column for column in sa.inspect(engine).get_columns(table)}


def test_third_party_sources_are_linked_from_the_row(genius_db):
    """Source: Shahram4wd/Data-Warehouse, ingestion/sync/genius/clients/appointments.py and
    prospects.py: `LEFT JOIN third_party_source tps ON tps.id = a.third_party_source_id`.
    The table has no appointment_id; some linked sources are not HubSpot's."""
    assert "appointment_id" not in columns_of(genius_db, "third_party_source")
    assert "third_party_source_id" in columns_of(genius_db, "appointment")
    assert "third_party_source_id" in columns_of(genius_db, "prospect")
    by_label = dict(
        genius_db.connect()
        .execute(
            sa.text(
                "SELECT t.label, count(*) FROM appointment a "
                "JOIN third_party_source s ON s.id = a.third_party_source_id "
                "JOIN third_party_source_type t ON t.id = s.third_party_source_type_id "
                "GROUP BY t.label"
            )
        )
        .all()
    )
    assert by_label["hubspot"] > 0 and by_label["leap"] > 0
    filled = scalar(
        genius_db,
        "SELECT avg(third_party_source_id IS NOT NULL) FROM prospect "
        f"WHERE id < {story.FIRST_GENIUS_ID}",  # the story's prospects have none
    )  # 89.6 % in the real copy (reports/data/database_schema_analysis/latest.json)
    assert 0.8 < filled < 1


def test_users_link_to_their_association_row(genius_db):
    """Source: Shahram4wd/Data-Warehouse, ingestion/sync/genius/clients/users.py:
    `LEFT JOIN users_userassociations ua ON ua.id = u.user_associations_id`; the
    association table is read as id, primary_user_id, created_at, updated_at."""
    associations = columns_of(genius_db, "users_userassociations")
    assert set(associations) == {"id", "primary_user_id", "created_at", "updated_at"}
    assert sa.inspect(genius_db).get_pk_constraint("users_userassociations")[
        "constrained_columns"
    ] == ["id"]
    linked = scalar(
        genius_db,
        "SELECT count(*) FROM user_data u JOIN users_userassociations ua "
        "ON ua.id = u.user_associations_id",
    )
    unlinked = scalar(
        genius_db, "SELECT count(*) FROM user_data WHERE user_associations_id IS NULL"
    )
    assert linked > 0 and unlinked > 0


def test_column_types_follow_the_old_system_models(genius_db):
    """Source: Shahram4wd/Data-Warehouse, ingestion/models/genius.py (Genius_Lead,
    Genius_Quote, Genius_DivisionGroup, Genius_ProspectSource, Genius_UserData) and
    processors/appointments.py (duration as a TIME)."""
    types = {
        (table, name): str(column["type"]).lower()
        for table in ("lead", "quote", "division_group", "prospect_source", "user_data")
        for name, column in columns_of(genius_db, table).items()
    }
    assert types[("lead", "source")].startswith("smallint")
    assert types[("lead", "status")].startswith("smallint")
    assert types[("quote", "client_cid")].startswith("int")
    assert types[("division_group", "region")].startswith("int")
    assert types[("division_group", "cc_profile_id")] == "varchar(32)"
    assert types[("division_group", "mes_profile_id")] == "varchar(25)"
    assert types[("division_group", "hub_account_id")].startswith("int")
    assert types[("prospect_source", "source_date")] == "datetime"
    assert types[("user_data", "hired_on")] == "datetime"
    assert str(columns_of(genius_db, "appointment")["duration"]["type"]).lower() == "time"


def test_old_mysql_quirks_are_present(genius_db):
    assert scalar(genius_db, "SELECT count(*) FROM appointment WHERE add_date = '0000-00-00'") > 0
    assert scalar(genius_db, "SELECT count(*) FROM appointment WHERE updated_at IS NULL") > 0
    assert (
        scalar(
            genius_db,
            "SELECT count(*) FROM `lead` WHERE updated_at IS NULL AND added_on IS NOT NULL",
        )
        > 0
    )
    shared = scalar(
        genius_db,
        "SELECT max(c) FROM (SELECT count(*) c FROM appointment "
        "WHERE updated_at IS NOT NULL GROUP BY updated_at) x",
    )
    assert shared >= 5, "several rows share one change stamp"
    assert scalar(genius_db, "SELECT count(*) FROM appointment WHERE notes LIKE '%🐕%'") > 0
    assert (
        scalar(
            genius_db,
            "SELECT count(*) FROM division_group WHERE paysimple_secret LIKE 'ps-secret-%'",
        )
        == 3
    )


def test_seed_is_deterministic(genius_db):
    first = scalar(
        genius_db,
        "SELECT sum(crc32(concat_ws('|', id, email, notes, amount))) FROM quote q "
        "JOIN appointment a USING (id)",
    )
    genius.seed(genius_db, appointments=300, now=None)
    assert (
        scalar(
            genius_db,
            "SELECT sum(crc32(concat_ws('|', id, email, notes, amount))) FROM quote q "
            "JOIN appointment a USING (id)",
        )
        == first
    )


def test_mutate_stamps_changes_after_everything_before(genius_db):
    before = scalar(genius_db, "SELECT max(updated_at) FROM appointment")
    summary = genius.mutate(genius_db)
    after = scalar(genius_db, "SELECT max(updated_at) FROM appointment")
    assert after > before
    created = summary["appointment"]["created"]
    assert (
        scalar(
            genius_db,
            f"SELECT count(*) FROM appointment WHERE id IN ({','.join(map(str, created))}) "
            f"AND updated_at = '{after}'",
        )
        == 3
    )
    changed = summary["quote"]["updated"]
    assert scalar(
        genius_db,
        f"SELECT count(*) FROM quote WHERE id IN ({','.join(map(str, changed))}) "
        f"AND updated_at = '{after}'",
    ) == len(changed)


def test_bad_credentials_are_refused_like_mysql(mariadb_server):
    with pytest.raises(pymysql.err.OperationalError) as refused:
        pymysql.connect(host="127.0.0.1", port=mariadb_server.port, user="genius", password="wrong")
    assert refused.value.args[0] == 1045


def test_sqlite_copy_for_the_demo(tmp_path):
    engine = sa.create_engine(f"sqlite:///{tmp_path / 'genius.db'}")
    counts = genius.seed(engine, appointments=50, now=datetime.datetime(2026, 1, 1))
    told = len(story.Story(datetime.datetime(2026, 1, 1)).appointments)
    assert counts["appointment"] == 50 + told
    assert set(sa.inspect(engine).get_table_names()) >= REFERENCE_TABLES
    assert scalar(engine, "SELECT count(*) FROM appointment") == 50 + told


def test_datetimes_stay_without_fractions_when_dagster_is_imported(mariadb_server):
    # Dagster's SQL storage makes the generic DateTime DATETIME(6) on MySQL, process-wide.
    pytest.importorskip("dagster._core.storage.sql")
    engine = sa.create_engine(mariadb_server.url)
    try:
        genius.seed(engine, appointments=10)
        assert column_types(engine)[("appointment", "updated_at")] == "datetime"
    finally:
        engine.dispose()


def test_drift_changes_rows_behind_the_stamps_back(genius_db):
    """What a stamp-based delta cannot see: deleted rows, changes that keep the stamp, a
    key deleted and inserted again, rows inserted without a stamp."""

    def snapshot(table):
        with genius_db.connect() as connection:
            rows = connection.execute(sa.select(genius.TABLES[table])).mappings().all()
        key = [c.name for c in genius.TABLES[table].primary_key.columns]
        return {tuple(r[k] for k in key) if len(key) > 1 else r[key[0]]: dict(r) for r in rows}

    before = {name: snapshot(name) for name in genius.DRIFT_PLAN}
    planted = genius.drift(genius_db)
    for name, (deletes, changes, _column) in genius.DRIFT_PLAN.items():
        after = snapshot(name)
        found = planted[name]
        assert len(found.deleted) == deletes and not set(found.deleted) & set(after)
        for key in found.changed[:changes]:  # changed in place: the stamp stays
            assert after[key]["updated_at"] == before[name][key]["updated_at"], (name, key)
            assert after[key] != before[name][key]
        assert all(key < story.FIRST_GENIUS_ID for key in found.deleted if isinstance(key, int))
    appointments = snapshot("appointment")
    assert len(planted["appointment"].changed) == 4  # two changed in place, two re-inserted
    moved = planted["appointment"].changed[2:]
    assert [appointments[k]["city"] for k in moved] == ["Moved 1", "Moved 1"]
    assert appointments[moved[0]]["updated_at"] == before["appointment"][moved[0]]["updated_at"]
    assert appointments[moved[1]]["updated_at"] is None
    (unstamped,) = planted["appointment"].inserted
    assert appointments[unstamped]["updated_at"] is None
    assert unstamped > max(k for k in before["appointment"] if k < story.FIRST_GENIUS_ID)
    assert all(isinstance(k, tuple) for k in planted["appointment_to_service"].deleted)
    assert all(isinstance(k, str) for k in planted["marketsharp_marketing_source_map"].deleted)
