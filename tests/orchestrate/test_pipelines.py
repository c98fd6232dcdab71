"""orchestrate.pipelines: Meltano jobs run by Dagster in process against the stand-ins, into
the embedded Postgres, with the project's meltano.yml (real Meltano, real Dagster)."""

from __future__ import annotations

import json
import subprocess

import dagster as dg
import requests
from orchestrate.definitions import build_definitions
from orchestrate.pipelines import DRIFT_CHECK, PARTIAL_CHECK

from tests.orchestrate.conftest import history_rows, project_for
from tests.support.pipelines import arrivy_pipeline, assert_equal_to_source, erp_pipeline


def materializations(result: dg.ExecuteInProcessResult) -> dict[str, dict]:
    found = {}
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization
        found[materialization.asset_key.path[-1]] = {
            name: value.value for name, value in materialization.metadata.items()
        }
    return found


def test_two_pipelines_run_through_dagster_land_rows_history_state_and_metadata(
    meltano_installed, warehouse_url, db, tmp_path, erp_server, arrivy_server, schemas
):
    erp, arrivy = erp_pipeline(erp_server), arrivy_pipeline(arrivy_server)
    project, history = project_for(
        meltano_installed, tmp_path, warehouse_url, schemas, **erp.env, **arrivy.env
    )
    defs = build_definitions(project)
    for job_name, pipeline, tap in (
        ("legacy_erp", erp, "tap-legacy-erp"),
        ("arrivy", arrivy, "tap-arrivy"),
    ):
        result = defs.resolve_job_def(job_name).execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        assert result.success
        assert_equal_to_source(db, schemas[tap], pipeline)
        rows = history_rows(db, history, result.run_id)
        assert rows and all(row["status"] == "success" for row in rows.values())
        metadata = materializations(result)
        assert set(metadata) == set(rows)
        for stream, row in rows.items():
            assert metadata[stream]["records_created"] == row["records_created"]
            assert metadata[stream]["records_updated"] == row["records_updated"]
            assert metadata[stream]["records_failed"] == row["records_failed"]
            assert (
                metadata[stream]["records_unchanged"]
                == row["performance_metrics"]["records_unchanged"]
            )
        checks = result.get_asset_check_evaluations()
        assert checks and all(c.passed for c in checks if c.check_name == PARTIAL_CHECK)
        state = subprocess.run(
            project.command("state", "get", f"sandbox:{tap}-to-target-warehouse"),
            cwd=project.folder, env=project.env, capture_output=True, text=True, check=True,
        )  # fmt: skip
        assert json.loads(state.stdout)["singer_state"]["bookmarks"]


def failed_arrivy_run(project) -> tuple[dg.ExecuteInProcessResult, str]:
    """The `arrivy` job run in process, which must fail; its step's one-line error."""
    job = build_definitions(project).resolve_job_def("arrivy")
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), raise_on_error=False)
    assert not result.success
    (failure,) = [e for e in result.all_events if e.event_type_value == "STEP_FAILURE"]
    return result, failure.step_failure_data.user_failure_data.description


def test_a_refused_key_fails_the_run_once_and_marks_its_history_failed(
    meltano_installed, warehouse_url, db, tmp_path, arrivy_server, schemas
):
    env = {**arrivy_pipeline(arrivy_server).env, "SANDBOX_ARRIVY_AUTH_KEY": "wrong"}
    project, history = project_for(meltano_installed, tmp_path, warehouse_url, schemas, **env)
    result, error = failed_arrivy_run(project)
    assert error.startswith("tap-arrivy: error: Arrivy refused the auth key or token (401")
    assert not [e for e in result.all_events if e.event_type_value == "STEP_UP_FOR_RETRY"]
    rows = history_rows(db, history, result.run_id)
    assert rows and {row["status"] for row in rows.values()} == {"failed"}
    assert {row["error_message"] for row in rows.values()} == {error}


def drift_checks(result: dg.ExecuteInProcessResult) -> dict[str, dg.AssetCheckEvaluation]:
    return {
        c.asset_key.path[-1]: c
        for c in result.get_asset_check_evaluations()
        if c.check_name == DRIFT_CHECK
    }


def test_in_step_with_source_warns_while_the_last_pass_found_drift(
    meltano_installed, warehouse_url, db, tmp_path, erp_server, schemas
):
    """A customer changed behind its change column: the delta misses it, the nightly pass
    repairs it and its check warns; the next delta's run still shows that warning."""
    erp = erp_pipeline(erp_server)
    project, _ = project_for(meltano_installed, tmp_path, warehouse_url, schemas, **erp.env)
    defs = build_definitions(project)

    def run(job: str) -> dg.ExecuteInProcessResult:
        result = defs.resolve_job_def(job).execute_in_process(
            instance=dg.DagsterInstance.ephemeral()
        )
        assert result.success
        return result

    first = drift_checks(run("legacy_erp"))
    assert first["kunden"].passed and first["kunden"].metadata["reconciled"].value is False
    clean = drift_checks(run("legacy_erp_reconcile"))
    assert clean["kunden"].passed and clean["kunden"].metadata["drift_found"].value == 0

    customers = erp_server.tables["Kunden"]
    behind = customers.record(4)
    behind["Rabatt"] = 12.5  # last_modified left alone: no delta sees it
    customers.changed[4] = behind
    erp_server.delete("Kunden", 9)
    run("legacy_erp")
    found = drift_checks(run("legacy_erp_reconcile"))["kunden"]
    assert not found.passed and found.severity == dg.AssetCheckSeverity.WARN
    assert found.metadata["drift_found"].value == 1
    assert found.metadata["rows_retired"].value == 1
    assert drift_checks(run("legacy_erp"))["kunden"].passed is False, "a delta keeps the warning"
    assert_equal_to_source(db, schemas["tap-legacy-erp"], erp)


def test_a_stream_that_fails_alone_fails_its_asset_and_the_others_materialize(
    meltano_installed, warehouse_url, db, tmp_path, arrivy_server, schemas
):
    fault = {"kind": "404", "path": "/api/statuses", "times": 100_000}
    requests.post(f"{arrivy_server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)
    arrivy = arrivy_pipeline(arrivy_server)
    project, history = project_for(
        meltano_installed, tmp_path, warehouse_url, schemas, **arrivy.env
    )
    result, error = failed_arrivy_run(project)
    assert error.startswith("tap-arrivy: error: 1 of ")
    assert "statuses (404 from Arrivy on /api/statuses)" in error
    rows = history_rows(db, history, result.run_id)
    assert rows["statuses"]["status"] == "failed"
    assert rows["statuses"]["error_message"] == "404 from Arrivy on /api/statuses"
    others = {stream: row for stream, row in rows.items() if stream != "statuses"}
    assert others and {row["status"] for row in others.values()} == {"success"}
    assert set(materializations(result)) == set(others)
    assert_equal_to_source(db, schemas["tap-arrivy"], arrivy)  # customers and tasks
    state = subprocess.run(
        project.command("state", "get", "sandbox:tap-arrivy-to-target-warehouse"),
        cwd=project.folder, env=project.env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    bookmarks = json.loads(state.stdout)["singer_state"]["bookmarks"]
    assert bookmarks["tasks"]["partitions"], "the streams that finished kept their state"
