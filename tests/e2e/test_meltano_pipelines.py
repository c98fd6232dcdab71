"""End to end through `meltano run`: each pipeline against its stand-in (real HTTP, or a real
MariaDB for Genius) into the real Postgres, with the project's own meltano.yml (`sandbox`
environment).

For each pipeline: after a first run the warehouse equals the source (count, keys, a value
per key, a checksum per table); after the source changes and a second run it equals the new
truth, the sync history shows that only the changed rows were written, and Meltano's state
holds newer bookmarks; `--full-refresh` reloads everything without duplicates; and the tap
run alone with the config JSON Meltano generates, piped into target-warehouse, lands the
same rows.
"""

from __future__ import annotations

import bisect
import datetime
import json
import os
import subprocess
import typing as t
from pathlib import Path

import requests

from sandbox import genius as sandbox_genius
from tests.support.meltano_project import Project
from tests.support.pipelines import (
    Pipeline,
    assert_equal_to_source,
    callrail_pipeline,
    erp_pipeline,
    genius_pipeline,
    keeps_history,
    landed,
)

ROOT = Path(__file__).resolve().parents[2]


def last_run_counts(db: t.Any, pipeline: Pipeline) -> dict[str, tuple[int, int, int]]:
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (sync_type) sync_type, records_created, records_updated, "
            f'records_processed FROM "{pipeline.schema}_history".sync_history '
            "ORDER BY sync_type, start_time DESC"
        )
        return {row[0]: (row[1], row[2], row[3]) for row in cursor.fetchall()}


def bookmark_values(state: dict) -> dict[str, t.Any]:
    found = {}
    for stream, bookmark in state["singer_state"]["bookmarks"].items():
        if isinstance(bookmark, dict) and "replication_key_value" in bookmark:
            found[stream] = bookmark["replication_key_value"]
        for partition in (bookmark or {}).get("partitions", []):
            if "replication_key_value" in partition:
                found[f"{stream}:{partition.get('context')}"] = partition["replication_key_value"]
    return found


def test_pipeline_through_meltano(meltano_installed, warehouse_url, db, pipeline, tmp_path):
    project = Project(meltano_installed, tmp_path, pipeline, warehouse_url)
    schemas = [pipeline.schema, f"{pipeline.schema}_alone"]
    try:
        project.run()
        assert_equal_to_source(db, pipeline.schema, pipeline)
        first_state = bookmark_values(project.state())
        assert first_state, "Meltano saved bookmarks"

        expected = pipeline.mutate()
        project.run()
        assert_equal_to_source(db, pipeline.schema, pipeline)
        counts = last_run_counts(db, pipeline)
        for table, (created, updated) in expected.items():
            if keeps_history(db, pipeline.schema, table):
                # An update ends a version (updated) and begins one (created).
                created += updated
            assert counts[table][:2] == (created, updated), (table, counts[table])
        second_state = bookmark_values(project.state())
        assert any(second_state[k] > v for k, v in first_state.items() if k in second_state)
        assert all(second_state[k] >= v for k, v in first_state.items() if k in second_state)

        project.run("--full-refresh")
        assert_equal_to_source(db, pipeline.schema, pipeline)
        counts = last_run_counts(db, pipeline)
        for check in pipeline.checks:
            created, updated, processed = counts[check.table]
            assert created == updated == 0, "a full refresh of unchanged data writes nothing"
            assert processed >= len(check.truth())

        project.standalone(schemas[1])
        for check in pipeline.checks:
            assert landed(db, schemas[1], check) == landed(db, pipeline.schema, check)
    finally:
        with db.cursor() as cursor:
            for schema in schemas:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}_history" CASCADE')


def retired_calls(db, schema: str) -> list[str]:
    """The calls reconciliation retired: marked deleted in an upsert table; in a history
    table (meltano.yml loads calls so), the ids left with no current version."""
    if keeps_history(db, schema, "calls"):
        sql = (
            f'SELECT DISTINCT id FROM "{schema}".calls '
            f'WHERE id NOT IN (SELECT id FROM "{schema}".calls__current)'
        )
    else:
        sql = f'SELECT id FROM "{schema}".calls WHERE _sdc_deleted_at IS NOT NULL'
    with db.cursor() as cursor:
        cursor.execute(sql)
        return [row[0] for row in cursor.fetchall()]


def test_callrail_reconciliation_job_through_meltano(
    meltano_installed, warehouse_url, db, callrail_server, tmp_path
):
    """`meltano run callrail-reconcile` after a delta: the call CallRail dropped 45 days
    back (spam) is retired in the delta's own table, with its own state id."""
    pipeline = callrail_pipeline(callrail_server)
    project = Project(meltano_installed, tmp_path, pipeline, warehouse_url)
    try:
        project.run()
        calls = next(iter(callrail_server.accounts.values())).calls
        spam = str(calls.record(150)["id"])  # 300 calls over 90 days: 45 days ago
        with calls.lock:
            bisect.insort(calls.deleted, 150)
        project.run()
        project.meltano("run", "callrail-reconcile")
        assert retired_calls(db, pipeline.schema) == [spam]
        listed = project.meltano("state", "list").stdout.split()
        assert "sandbox:tap-callrail--reconcile-to-target-warehouse" in listed
        assert "sandbox:tap-callrail-to-target-warehouse" in listed
    finally:
        with db.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}" CASCADE')
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}_history" CASCADE')


def test_genius_and_erp_reconciliation_jobs_through_meltano(
    meltano_installed, warehouse_url, db, genius_db, mariadb_server, erp_server, tmp_path
):
    """`meltano run genius-reconcile` and `legacy-erp-reconcile` after a delta: what the
    sources deleted is retired (appointments, a history table in meltano.yml, get their
    versions closed), the Genius drift is repaired and counted, each pass with its own
    state ID."""
    genius = genius_pipeline(genius_db, mariadb_server.url)
    erp = erp_pipeline(erp_server)
    projects = [
        Project(meltano_installed, tmp_path / p.source, p, warehouse_url) for p in (genius, erp)
    ]
    try:
        for project in projects:
            (tmp_path / project.pipeline.source).mkdir()
            project.run()
        planted = sandbox_genius.drift(genius_db)
        erp_server.delete("Belege", 7)
        for project in projects:
            project.run()
            project.meltano("run", f"{project.pipeline.source}-reconcile")
            assert_equal_to_source(db, project.pipeline.schema, project.pipeline)
        counts = pass_counts(db, genius)
        appointment = planted["appointment"]
        assert counts["appointments"] == (len(appointment.deleted), len(appointment.changed))
        assert counts["appointment_services"] == (2, 0)
        assert pass_counts(db, erp)["belege_pos"] == (3, 0)
        listed = projects[0].meltano("state", "list").stdout.split()
        assert "sandbox:tap-genius--reconcile-to-target-warehouse" in listed
    finally:
        with db.cursor() as cursor:
            for project in projects:
                cursor.execute(f'DROP SCHEMA IF EXISTS "{project.pipeline.schema}" CASCADE')
                schema = f"{project.pipeline.schema}_history"
                cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def test_a_column_added_to_genius_arrives_through_meltano_with_a_catalog_made_before(
    meltano_installed, warehouse_url, db, genius_db, mariadb_server, tmp_path
):
    """Two `meltano run`s from one catalog Meltano made before the table gained a column.
    Meltano caches no catalog for a plugin installed editable (as this project's are), so
    the stale catalog is given as the plugin's `catalog` extra: what Meltano's cache hands
    a tap installed from a package index. The column still lands."""
    pipeline = genius_pipeline(genius_db, mariadb_server.url)
    project = Project(meltano_installed, tmp_path, pipeline, warehouse_url)
    catalog = project.pin_catalog(tmp_path / "catalog.json")
    try:
        project.run()
        with genius_db.begin() as connection:
            connection.exec_driver_sql("ALTER TABLE appointment ADD COLUMN crew_notes TEXT")
            latest = connection.exec_driver_sql("SELECT max(updated_at) FROM appointment").scalar()
            connection.exec_driver_sql(
                "UPDATE appointment SET crew_notes = CONCAT('note ', id), "
                "updated_at = %s + INTERVAL 1 MINUTE WHERE id <= 5",
                (latest,),
            )
        project.run()
        assert "crew_notes" not in catalog.read_text()
        with db.cursor() as cursor:
            cursor.execute(
                f'SELECT id, crew_notes FROM "{pipeline.schema}".appointments__current '
                "WHERE crew_notes IS NOT NULL ORDER BY id"
            )
            assert cursor.fetchall() == [(i, f"note {i}") for i in range(1, 6)]
    finally:
        with db.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}" CASCADE')
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}_history" CASCADE')


def test_a_field_added_to_a_4d_table_arrives_through_meltano(
    meltano_installed, warehouse_url, db, erp_server, tmp_path
):
    """Two `meltano run`s, the second from the catalog the first used: the field the 4D
    table gained in between (the stand-in adds it to every Kunden record) is learned from
    the run's sample and lands as a date column of its own."""
    pipeline = erp_pipeline(erp_server)
    project = Project(meltano_installed, tmp_path, pipeline, warehouse_url)
    catalog = project.pin_catalog(tmp_path / "catalog.json")
    try:
        project.run()
        fault = {"kind": "new_field", "path": "/rest/Kunden", "field": "Lieferdatum",
                 "value": "5!11!2026", "times": 10**6}  # fmt: skip
        requests.post(f"{erp_server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)
        changed = pipeline.mutate()["kunden"]
        project.run()
        assert "Lieferdatum" not in catalog.read_text()
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT count(*), min(lieferdatum), max(lieferdatum) "
                f'FROM "{pipeline.schema}".kunden WHERE lieferdatum IS NOT NULL'
            )
            count, first, last = cursor.fetchone()
        # the delta re-reads its bookmark's day (4D filters by date): a few more than changed
        assert sum(changed) <= count < len(list(erp_server.tables["Kunden"].live_records()))
        assert first == last == datetime.date(2026, 11, 5)
    finally:
        with db.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}" CASCADE')
            cursor.execute(f'DROP SCHEMA IF EXISTS "{pipeline.schema}_history" CASCADE')


def pass_counts(db: t.Any, pipeline: Pipeline) -> dict[str, tuple[int, int]]:
    """(retired, drift) of each stream's latest reconciliation pass."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT ON (sync_type) sync_type, reconcile_retired, reconcile_drift "
            f'FROM "{pipeline.schema}_history".sync_history '
            "WHERE reconcile_retired IS NOT NULL ORDER BY sync_type, start_time DESC"
        )
        return {row[0]: (row[1], row[2]) for row in cursor.fetchall()}


def test_jobs_and_schedules_are_declared(meltano_installed):
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    listed = subprocess.run(
        [meltano_installed.executable, "schedule", "list", "--format=json"],
        cwd=meltano_installed.folder,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert listed.returncode == 0, listed.stderr[-2000:]
    schedules = {s["name"]: s for s in json.loads(listed.stdout)["schedules"]["job"]}
    assert schedules["legacy-erp-incremental"]["cron_interval"] == "*/5 * * * *"
    assert schedules["legacy-erp-reconcile-nightly"]["cron_interval"] == "0 2 * * *"
    assert {"arrivy-incremental", "callrail-incremental", "genius-incremental"} <= set(schedules)
    for source in ("arrivy", "callrail", "genius", "legacy-erp"):
        nightly = schedules[f"{source}-reconcile-nightly"]
        assert nightly["job"]["tasks"] == [f"tap-{source}--reconcile target-warehouse"]
