"""orchestrate.transform: Dagster's `transform` job materialises the dbt models on the story's
warehouse (real Dagster, real dbt through dagster-dbt), and each dbt test is an asset check
that passes; the definitions parse the project safely from processes at once."""

from __future__ import annotations

import fcntl
import os
import time
from concurrent.futures import ThreadPoolExecutor

import dagster as dg
from dagster_dbt import DbtProject
from orchestrate.definitions import build_definitions
from orchestrate.meltano_project import MeltanoProject
from orchestrate.transform import DEFINITIONS, manifest_of

from sandbox import warehouse
from tests.support.funnel import PROJECT, dbt_env

FUNNEL = dg.AssetKey(["analytics", "lead_funnel"])


def project_on(installed, built, tmp_path) -> MeltanoProject:
    """The installed project in `sandbox`, its dbt utility pointed at the story's warehouse."""
    config = warehouse.target_config(built.url)
    env = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "SANDBOX_WAREHOUSE_HOST": str(config["host"]),
        "SANDBOX_WAREHOUSE_USER": str(config["user"]),
        "SANDBOX_WAREHOUSE_DATABASE": str(config["database"]),
    }
    return MeltanoProject(installed.folder, installed.executable, "sandbox", env)


def test_the_transform_job_materialises_the_models_and_passes_their_checks(
    meltano_installed, built, tmp_path
):
    built.query("DROP SCHEMA analytics CASCADE")
    job = build_definitions(project_on(meltano_installed, built, tmp_path)).resolve_job_def(
        "transform"
    )
    result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral())
    assert result.success
    materialised = {e.asset_key for e in result.get_asset_materialization_events()}
    assert {FUNNEL, dg.AssetKey(["analytics", "marketing_performance"])} <= materialised
    assert dg.AssetKey(["callrail", "calls"]) not in materialised
    checks = result.get_asset_check_evaluations()
    funnel_checks = {c.check_name for c in checks if c.asset_key == FUNNEL}
    assert {"unique_lead_funnel_call_id", "not_null_lead_funnel_call_id"} <= funnel_checks
    assert [c.check_name for c in checks if not c.passed] == []
    [(rows,)] = built.query("SELECT count(*) FROM analytics.lead_funnel")
    assert rows == built.calls


def test_definitions_parse_in_a_folder_of_their_own_one_process_at_a_time(warehouse_url):
    """Two run workers loading the definitions at once: one read the manifest while the
    other wrote it (orjson: "unexpected end of data"). A parse waits for the one before."""
    dbt = DbtProject(PROJECT, profiles_dir=PROJECT / "profiles", target_path=DEFINITIONS)
    env = dbt_env(warehouse_url)
    started = time.monotonic()
    manifest_of(dbt, env)
    one_parse = time.monotonic() - started
    folder = PROJECT / DEFINITIONS
    with (folder / ".lock").open("w") as held, ThreadPoolExecutor(1) as pool:
        fcntl.flock(held, fcntl.LOCK_EX)
        parsing = pool.submit(manifest_of, dbt, env)
        time.sleep(2 * one_parse + 1)
        assert not parsing.done()
        released = time.time()
        fcntl.flock(held, fcntl.LOCK_UN)
        manifest = parsing.result(timeout=600)
    assert (folder / "manifest.json").stat().st_mtime > released
    assert any(node.endswith(".lead_funnel") for node in manifest["nodes"])
    assert DEFINITIONS.parts[0] == "target" and len(DEFINITIONS.parts) > 1
