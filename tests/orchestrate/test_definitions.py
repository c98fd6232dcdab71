"""orchestrate.definitions: built from meltano.yml through the `meltano` command; a job or
schedule added to meltano.yml appears with no Python change (real Meltano, no run)."""

from __future__ import annotations

import os
from pathlib import Path

import dagster as dg
import pytest
import yaml
from orchestrate.definitions import build_definitions
from orchestrate.meltano_project import MeltanoProject
from orchestrate.run_queue import STATE_TAG_PREFIX

from tests.support.singer_run import meltano_executable

pytestmark = pytest.mark.meltano

ROOT = Path(__file__).resolve().parents[2]


def project_copy(folder: Path, change=None) -> MeltanoProject:
    """meltano.yml (changed by `change`) in a folder of its own, read in `sandbox`."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    if change:
        change(project)
    (folder / "meltano.yml").write_text(yaml.safe_dump(project, sort_keys=False))
    (folder / "transform").symlink_to(ROOT / "transform")
    env = {**os.environ, "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}"}
    return MeltanoProject(folder, meltano_executable(), "sandbox", env)


def tick(schedule: dg.ScheduleDefinition) -> dg.RunRequest:
    return schedule.evaluate_tick(dg.build_schedule_context()).run_requests[0]


def tick_config(schedule: dg.ScheduleDefinition) -> dict:
    return tick(schedule).run_config


def tick_tags(schedule: dg.ScheduleDefinition) -> dict:
    return {k: v for k, v in tick(schedule).tags.items() if k.startswith(STATE_TAG_PREFIX)}


@pytest.fixture(scope="module")
def repository(tmp_path_factory):
    project = project_copy(tmp_path_factory.mktemp("meltano"))
    return project, build_definitions(project).get_repository_def()


def test_one_dagster_job_per_meltano_job_and_one_schedule_per_schedule(repository):
    project, repo = repository
    jobs = {job.name.replace("-", "_") for job in project.jobs()}
    assert jobs <= {job.name for job in repo.get_all_jobs()}
    assert {s.name for s in repo.schedule_defs} == {
        s.name.replace("-", "_") for s in project.schedules()
    }
    nightly = repo.get_schedule_def("legacy_erp_reconcile_nightly")
    assert nightly.cron_schedule == "0 2 * * *"
    assert nightly.job_name == "legacy_erp_reconcile"
    incremental = repo.get_schedule_def("legacy_erp_incremental")
    config = {name: ops["config"] for name, ops in tick_config(nightly)["ops"].items()}
    assert config == {"load_legacy_erp": {"tasks": ["tap-legacy-erp--reconcile target-warehouse"],
                      "full_refresh": False, "state_id_suffix": None, "env": {}}}  # fmt: skip
    delta = tick_tags(incremental)
    assert delta.items() <= tick_tags(nightly).items(), "the pass waits for the delta"
    assert tick_tags(nightly)[f"{STATE_TAG_PREFIX}tap-legacy-erp--reconcile-to-target-warehouse"]


def test_a_schedule_with_full_refresh_runs_its_job_so(tmp_path):
    def nightly_full(project: dict) -> None:
        project["schedules"].append(
            {"name": "legacy-erp-nightly-full", "interval": "0 2 * * *", "job": "legacy-erp",
             "env": {"MELTANO_RUN_FULL_REFRESH": "true"}}
        )  # fmt: skip

    repo = build_definitions(project_copy(tmp_path, nightly_full)).get_repository_def()
    full = repo.get_schedule_def("legacy_erp_nightly_full")
    incremental = repo.get_schedule_def("legacy_erp_incremental")
    assert tick_config(full)["ops"]["load_legacy_erp"]["config"]["full_refresh"] is True
    assert not tick_config(incremental)["ops"]["load_legacy_erp"]["config"]["full_refresh"]
    assert tick_tags(full) == tick_tags(incremental), "both wait for the same state ID"


def test_each_table_is_an_asset_and_each_job_selects_its_extractors_tables(repository):
    _, repo = repository
    keys = {key.to_user_string() for key in repo.asset_graph.get_all_asset_keys()}
    assert {"callrail/calls", "arrivy/tasks", "genius/appointments", "legacy_erp/belege"} <= keys
    reconcile = repo.get_job("callrail_reconcile")
    selected = {str(key.to_user_string()) for key in reconcile.asset_layer.executable_asset_keys}
    assert selected == {key for key in keys if key.startswith("callrail/")}


def test_every_job_tags_its_runs_with_each_pipelines_state_id(repository):
    _, repo = repository
    assert repo.get_job("all").tags == {
        f"{STATE_TAG_PREFIX}tap-{source}-to-target-warehouse":
            f"sandbox:tap-{source}-to-target-warehouse"
        for source in ("arrivy", "callrail", "genius", "legacy-erp")
    }  # fmt: skip


def test_the_instance_queues_a_second_run_of_every_pipeline(repository):
    project, _ = repository
    limits = yaml.safe_load((ROOT / "orchestrate" / "dagster.yaml").read_text())
    keys = {
        limit["key"]: limit for limit in limits["concurrency"]["runs"]["tag_concurrency_limits"]
    }
    for job in project.jobs():
        for pipeline in job.pipelines:
            limit = keys[f"{STATE_TAG_PREFIX}{pipeline.state_id_stem}"]
            assert limit["limit"] == 1 and limit["value"] == {"applyLimitPerUniqueValue": True}


def test_a_job_and_a_schedule_added_to_meltano_yml_appear(tmp_path):
    def add(project: dict) -> None:
        project["jobs"].append({"name": "erp-twice", "tasks": ["tap-legacy-erp target-warehouse"]})
        project["schedules"].append(
            {"name": "erp-hourly", "interval": "0 * * * *", "job": "erp-twice"}
        )

    repo = build_definitions(project_copy(tmp_path, add)).get_repository_def()
    state_id = "sandbox:tap-legacy-erp-to-target-warehouse"
    assert repo.get_job("erp_twice").tags == {
        f"{STATE_TAG_PREFIX}tap-legacy-erp-to-target-warehouse": state_id
    }
    assert repo.get_schedule_def("erp_hourly").cron_schedule == "0 * * * *"


def test_a_meltano_that_fails_is_one_line(tmp_path):
    (tmp_path / "meltano.yml").write_text("not: [a, meltano project")
    project = MeltanoProject(tmp_path, meltano_executable(), None, dict(os.environ))
    with pytest.raises(Exception, match="meltano job list --format=json failed: ") as failed:
        project.jobs()
    assert "\n" not in str(failed.value)


def test_dbt_models_are_assets_downstream_of_the_tables_they_read(repository):
    _, repo = repository
    graph = repo.asset_graph
    funnel = dg.AssetKey(["analytics", "lead_funnel"])
    assert dg.AssetKey(["staging", "int_call_prospect_matches"]) in graph.get(funnel).parent_keys
    calls = dg.AssetKey(["staging", "stg_callrail__calls"])
    assert graph.get(calls).parent_keys == {dg.AssetKey(["callrail", "calls"])}
    checks = {key.name for key in graph.asset_check_keys if key.asset_key == funnel}
    assert {"unique_lead_funnel_call_id", "not_null_lead_funnel_call_id"} <= checks
    transform = repo.get_job("transform").asset_layer.executable_asset_keys
    assert funnel in transform and dg.AssetKey(["callrail", "calls"]) not in transform
    assert funnel in repo.get_job("all").asset_layer.executable_asset_keys
