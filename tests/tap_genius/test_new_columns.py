"""tap_genius: a column added to a Genius table arrives by itself, with the catalog made
before it (Meltano's cached one); a column that looks like a credential, and user_data's
unlisted columns (an SSN, calendar tokens), are never read. Real MariaDB."""

from __future__ import annotations

import sqlalchemy as sa

from tests.support.singer_run import run_pipeline, run_tap


def test_a_new_column_arrives_with_the_catalog_made_before_it(genius_config, genius_db):
    selected = ["appointments", "users"]
    before = run_tap("tap-genius", genius_config, select=selected)
    assert before.returncode == 0, before.stderr[-2000:]
    with genius_db.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE appointment ADD COLUMN crew_notes VARCHAR(200)")
        connection.exec_driver_sql("ALTER TABLE appointment ADD COLUMN portal_api_token TEXT")
        connection.exec_driver_sql("UPDATE appointment SET crew_notes = CONCAT('n', id)")
    after = run_tap("tap-genius", genius_config, catalog=before.catalog)
    assert after.returncode == 0, after.stderr[-2000:]
    properties = after.schema("appointments")["schema"]["properties"]
    assert properties["crew_notes"]["type"] == ["string", "null"]
    assert "portal_api_token" not in properties
    records = after.records("appointments")
    assert records and all(r["crew_notes"] == f"n{r['id']}" for r in records)
    assert all("portal_api_token" not in r for r in records)
    assert "appointment.portal_api_token is not among the stream's columns" in after.stderr


def test_user_datas_unlisted_columns_are_never_read(genius_config, genius_db):
    with genius_db.connect() as connection:
        columns = {c["name"] for c in sa.inspect(connection).get_columns("user_data")}
    assert {"ssn", "google_calendar_token"} <= columns, "the stand-in has what the real one has"
    run = run_tap("tap-genius", genius_config, select=["users"])
    assert run.returncode == 0, run.stderr[-2000:]
    properties = run.schema("users")["schema"]["properties"]
    assert not {"ssn", "google_calendar_token"} & set(properties)
    assert run.records("users") and all("ssn" not in r for r in run.records("users"))


def test_keep_new_fields_false_reads_the_listed_columns_only(genius_config, genius_db):
    with genius_db.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE appointment ADD COLUMN crew_notes VARCHAR(200)")
    run = run_tap(
        "tap-genius", {**genius_config, "keep_new_fields": False}, select=["appointments"]
    )
    assert run.returncode == 0, run.stderr[-2000:]
    assert "crew_notes" not in run.schema("appointments")["schema"]["properties"]


def test_a_dropped_column_stops_being_written_and_stays_in_the_warehouse(
    genius_config, genius_db, target_config, db, target_schema
):
    first = run_pipeline("tap-genius", genius_config, target_config)
    assert (first.tap_returncode, first.target_returncode) == (0, 0), first.output[-2000:]
    with genius_db.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE appointment DROP COLUMN marketsharp_appt_type")
    second = run_pipeline("tap-genius", genius_config, target_config, state=first.final_state)
    assert (second.tap_returncode, second.target_returncode) == (0, 0), second.output[-2000:]
    assert "appointment has no column marketsharp_appt_type: not read" in second.output
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT 1 FROM information_schema.columns WHERE table_schema = %s "
            "AND table_name = 'appointments' AND column_name = 'marketsharp_appt_type'",
            (target_schema,),
        )
        assert cursor.fetchone() is not None


def test_a_catalog_that_chose_columns_one_by_one_gets_no_new_column(genius_config, genius_db):
    before = run_tap("tap-genius", genius_config, select=["appointments"])
    catalog = before.catalog
    (entry,) = [e for e in catalog["streams"] if e["tap_stream_id"] == "appointments"]
    for metadata in entry["metadata"]:
        if metadata["breadcrumb"] == ["properties", "notes"]:
            metadata["metadata"]["selected"] = False
    with genius_db.begin() as connection:
        connection.exec_driver_sql("ALTER TABLE appointment ADD COLUMN crew_notes VARCHAR(200)")
    run = run_tap("tap-genius", genius_config, catalog=catalog)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "crew_notes" not in run.schema("appointments")["schema"]["properties"]
    records = run.records("appointments")
    assert records and not any("crew_notes" in r or "notes" in r for r in records)
    assert "crew_notes not in the catalog, which selects properties one by one" in run.stderr
