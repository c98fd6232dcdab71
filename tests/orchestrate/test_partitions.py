"""orchestrate.partitions: CallRail by account, each partition with its own Meltano state,
against the stand-in through real Meltano and Dagster, into the embedded Postgres."""

from __future__ import annotations

import json
import subprocess

import dagster as dg
from orchestrate.definitions import build_definitions
from orchestrate.partitions import setting_variable
from orchestrate.run_queue import STATE_TAG_PREFIX

from tests.orchestrate.conftest import history_rows, project_for
from tests.support.pipelines import callrail_pipeline

STATE_ID = "sandbox:tap-callrail-to-target-warehouse"


def test_a_settings_variable_is_the_one_meltano_reads():
    assert setting_variable("tap-callrail", "account_ids") == "TAP_CALLRAIL_ACCOUNT_IDS"
    assert (
        setting_variable("tap-callrail--reconcile", "account_ids")
        == "TAP_CALLRAIL__RECONCILE_ACCOUNT_IDS"
    )


def calls_per_account(db, schema: str) -> dict[str, int]:
    with db.cursor() as cursor:
        cursor.execute(f'SELECT account_id, count(*) FROM "{schema}".calls GROUP BY 1')
        return dict(cursor.fetchall())


def test_two_account_partitions_run_each_with_its_own_state_and_never_the_unpartitioned_one(
    meltano_installed, warehouse_url, db, tmp_path, callrail_server, schemas
):
    accounts = sorted(callrail_server.accounts)
    env = {
        **callrail_pipeline(callrail_server).env,
        "TAP_CALLRAIL_ACCOUNT_IDS": json.dumps(accounts),
    }
    project, history = project_for(meltano_installed, tmp_path, warehouse_url, schemas, **env)
    defs = build_definitions(project)
    dg.Definitions.validate_loadable(defs)  # as a code location loads them (dagster dev)
    job = defs.resolve_job_def("callrail_by_account")
    assert job.partitions_def.get_partition_keys() == accounts
    schema = schemas["tap-callrail"]
    calls = {a: sum(1 for _ in callrail_server.accounts[a].calls.live_records()) for a in accounts}

    first = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=accounts[0]
    )
    assert first.success
    assert first.dagster_run.tags[f"{STATE_TAG_PREFIX}tap-callrail-to-target-warehouse"] == (
        f"{STATE_ID}:{accounts[0]}"
    )
    assert calls_per_account(db, schema) == {accounts[0]: calls[accounts[0]]}
    materialized = {
        e.event_specific_data.materialization.asset_key.path[-1]: e
        for e in first.get_asset_materialization_events()
    }
    assert (
        materialized["calls"].event_specific_data.materialization.metadata["partition"].value
        == accounts[0]
    )
    assert history_rows(db, history, first.run_id)["calls"]["records_created"] == calls[accounts[0]]

    second = job.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), partition_key=accounts[1]
    )
    assert second.success
    assert calls_per_account(db, schema) == calls
    own = {a: stored_state(project, f"{STATE_ID}:{a}") for a in accounts}
    assert all(own.values())
    assert stored_state(project, STATE_ID) is None

    # The unpartitioned job reads both accounts from the start: no partition's bookmark.
    whole = defs.resolve_job_def("callrail").execute_in_process(
        instance=dg.DagsterInstance.ephemeral()
    )
    assert whole.success
    rows = history_rows(db, history, whole.run_id)
    assert rows["calls"]["records_created"] == 0
    assert rows["calls"]["records_failed"] == 0
    assert rows["calls"]["records_processed"] == sum(calls.values())
    assert stored_state(project, STATE_ID)
    assert {a: stored_state(project, f"{STATE_ID}:{a}") for a in accounts} == own


def stored_state(project, state_id: str) -> dict | None:
    """A state ID's bookmarks as Meltano stores them (None: no such state)."""
    done = subprocess.run(
        project.command("state", "get", state_id),
        cwd=project.folder,
        env=project.env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0 or not done.stdout.strip():
        return None
    return json.loads(done.stdout).get("singer_state", {}).get("bookmarks")
