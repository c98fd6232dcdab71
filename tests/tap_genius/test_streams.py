"""Every Genius stream against a real MariaDB: all rows, exact values, the joined columns."""

from __future__ import annotations

import datetime
from collections import Counter
from decimal import Decimal

import pytest
import sqlalchemy as sa
from tap_genius.streams import STREAM_TYPES

from sandbox import genius
from tests.support.contact_truth import assert_contacts_normalised
from tests.support.singer_run import run_tap
from tests.tap_genius.conftest import ids, rows, table_ids


@pytest.fixture
def full_run(genius_config):
    run = run_tap("tap-genius", genius_config)
    assert run.returncode == 0, run.stderr[-2000:]
    return run


def test_every_stream_emits_every_row_of_its_table_once(full_run, genius_db):
    for stream_type in STREAM_TYPES:
        table = genius.TABLES[stream_type.table_name]
        key_sql = ", ".join(f"`{name}`" for name in stream_type.key)
        expected = rows(genius_db, f"SELECT {key_sql} FROM `{table.name}`")
        emitted = ids(full_run.records(stream_type.name), *stream_type.key)
        truth = ids(expected, *stream_type.key)
        assert Counter(emitted) == Counter(truth), stream_type.name
        assert full_run.schema(stream_type.name)["key_properties"] == list(stream_type.key)


def test_values_are_exact(full_run, genius_db):
    quotes = {q["id"]: q for q in full_run.records("quotes")}
    for row in rows(genius_db, "SELECT id, amount, label FROM quote"):
        assert Decimal(str(quotes[row["id"]]["amount"])) == row["amount"]
        assert quotes[row["id"]]["label"] == row["label"]
    appointments = {a["id"]: a for a in full_run.records("appointments")}
    for row in rows(genius_db, "SELECT id, time, notes, updated_at FROM appointment"):
        record = appointments[row["id"]]
        hours, rest = divmod(int(row["time"].total_seconds()), 3600)
        assert record["time"] == f"{hours:02d}:{rest // 60:02d}:{rest % 60:02d}"
        assert record["notes"] == row["notes"]  # utf8mb4 (emoji) intact
        if row["updated_at"] is not None:
            expected = row["updated_at"].replace(tzinfo=datetime.timezone.utc)
            assert datetime.datetime.fromisoformat(record["updated_at"]) == expected
    assert any("🐕" in (a["notes"] or "") for a in appointments.values())


def test_zero_dates_become_null_and_are_counted(full_run, genius_db):
    zero = rows(genius_db, "SELECT id FROM appointment WHERE CAST(add_date AS CHAR) LIKE '0000%'")
    assert zero, "the stand-in should hold zero dates"
    appointments = {a["id"]: a for a in full_run.records("appointments")}
    assert all(appointments[row["id"]]["add_date"] is None for row in zero)
    assert f"zero dates read as null: {len(zero)} in add_date" in full_run.stderr


def test_schema_types_follow_the_columns(full_run):
    properties = full_run.schema("appointments")["schema"]["properties"]
    assert properties["id"]["type"] == ["integer"]
    assert properties["updated_at"] == {"type": ["string", "null"], "format": "date-time"}
    assert properties["date"]["format"] == "date"
    assert properties["time"]["format"] == "time"
    assert properties["hubspot_appointment_id"]["type"] == ["string", "null"]
    assert full_run.schema("quotes")["schema"]["properties"]["amount"]["type"] == [
        "number",
        "null",
    ]
    assert full_run.schema("leads")["bookmark_properties"] == ["changed_at"]
    assert not full_run.schema("appointment_types").get("bookmark_properties")


HUBSPOT_IDS = (
    "SELECT x.id, s.third_party_id FROM {table} x "
    "JOIN third_party_source s ON s.id = x.third_party_source_id "
    "JOIN third_party_source_type t ON t.id = s.third_party_source_type_id "
    "WHERE t.label = 'hubspot'"
)


@pytest.mark.parametrize(
    ("stream", "table", "column"),
    [("appointments", "appointment", "hubspot_appointment_id"),
     ("prospects", "prospect", "hubspot_contact_id")],
)  # fmt: skip
def test_hubspot_ids_come_through_the_rows_third_party_source(
    full_run, genius_db, stream, table, column
):
    """Only HubSpot's ids: the old SQL leaked other systems' ids (another type's label)."""
    expected = {
        row["id"]: row["third_party_id"] for row in rows(genius_db, HUBSPOT_IDS.format(table=table))
    }
    records = full_run.records(stream)
    assert expected and len(records) == len({r["id"] for r in records})
    assert {r["id"]: r[column] for r in records if r[column] is not None} == expected
    assert not any(str(r[column]).startswith("LEAP") for r in records)


def test_users_carry_their_primary_user(full_run, genius_db):
    primary = {
        row["user_id"]: row["primary_user_id"]
        for row in rows(
            genius_db,
            "SELECT u.user_id, ua.primary_user_id FROM user_data u "
            "LEFT JOIN users_userassociations ua ON ua.id = u.user_associations_id",
        )
    }
    assert None in primary.values() and len(set(primary.values())) > 2
    assert {u["user_id"]: u["primary_user_id"] for u in full_run.records("users")} == primary


def test_a_database_without_a_join_or_a_table_warns_and_reads_the_rest(genius_config, genius_db):
    """A join table, a link column and a whole table missing: warnings, nulls, exit 0."""
    with genius_db.begin() as connection:
        connection.execute(sa.text("DROP TABLE third_party_source_type"))
        connection.execute(sa.text("ALTER TABLE user_data DROP COLUMN user_associations_id"))
        connection.execute(sa.text("DROP TABLE user_title"))
        connection.execute(sa.text("ALTER TABLE quote DROP COLUMN label, DROP COLUMN updated_at"))
    run = run_tap("tap-genius", genius_config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    assert "no table third_party_source_type, so hubspot_appointment_id is null" in run.stderr
    assert "no user_data.user_associations_id, so primary_user_id is null" in run.stderr
    assert "no table user_title, or does not let user" in run.stderr
    assert "quote has no column label" in run.stderr
    assert "quote has no change column updated_at" in run.stderr
    appointments = run.records("appointments")
    assert len(appointments) == len(table_ids(genius_db, "appointment")) and all(
        a["hubspot_appointment_id"] is None for a in appointments
    )
    assert all(u["primary_user_id"] is None for u in run.records("users"))
    assert not run.records("user_titles")
    quotes = run.records("quotes")
    assert len(quotes) == len(table_ids(genius_db, "quote")) and "label" not in quotes[0]


def test_leads_fall_back_to_added_on(full_run, genius_db):
    leads = {lead["lead_id"]: lead for lead in full_run.records("leads")}
    never_updated = rows(genius_db, "SELECT lead_id, added_on FROM `lead` WHERE updated_at IS NULL")
    assert never_updated
    for row in never_updated:
        expected = row["added_on"].replace(tzinfo=datetime.timezone.utc)
        assert datetime.datetime.fromisoformat(leads[row["lead_id"]]["changed_at"]) == expected


def test_credential_columns_stay_out_unless_asked_for(full_run, genius_config):
    groups = full_run.records("division_groups")
    schema = full_run.schema("division_groups")["schema"]["properties"]
    assert groups and all(
        "paysimple_secret" not in g and "mes_profile_key" not in g for g in groups
    )
    assert "paysimple_secret" not in schema
    assert "ps-secret-" not in "".join(str(m) for m in full_run.messages)
    config = {**genius_config, "include_credential_columns": True}
    with_secrets = run_tap("tap-genius", config, select=["division_groups"])
    assert all(
        g["paysimple_secret"].startswith("ps-secret-")
        for g in with_secrets.records("division_groups")
    )


def test_deselected_columns_are_not_read(genius_config, tmp_path):
    run = run_tap("tap-genius", genius_config, select=["services"])
    assert run.returncode == 0
    assert {m["stream"] for m in run.messages if m["type"] == "RECORD"} == {"services"}


def test_sqlite_copy_reads_the_same(tmp_path):
    path = tmp_path / "genius.sqlite"
    engine = sa.create_engine(f"sqlite:///{path}")
    counts = genius.seed(engine, appointments=120)
    run = run_tap("tap-genius", {"sqlalchemy_url": f"sqlite:///{path}", "chunk_size": 25})
    assert run.returncode == 0, run.stderr[-2000:]
    for stream_type in STREAM_TYPES:
        records = run.records(stream_type.name)
        assert len(set(ids(records, *stream_type.key))) == counts[stream_type.table_name]
    appointment = run.records("appointments")[0]
    assert len(appointment["time"]) == 8 and appointment["time"][2] == ":"


def test_phones_and_emails_get_normalised_siblings(full_run):
    phones, emails = ("phone1", "phone2"), ("email", "personal_email")
    for stream in ("prospects", "leads", "users", "appointments"):
        records = full_run.records(stream)
        assert assert_contacts_normalised(records, phones, emails), stream
        properties = full_run.schema(stream)["schema"]["properties"]
        assert all(f"{f}_e164" in properties for f in phones if f in properties), stream
    prospect = full_run.records("prospects")[0]
    assert prospect["phone1_e164"] is None or prospect["phone1_e164"].startswith("+1")
