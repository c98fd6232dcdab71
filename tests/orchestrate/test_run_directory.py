"""orchestrate.run_directory: each run's Meltano system directory is its own, so runs of one
extractor at once never share a catalog file; the partitions run side by side for real."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from orchestrate.definitions import build_definitions
from orchestrate.meltano_project import MeltanoProject
from orchestrate.run_directory import private_sys_dir

from tests.orchestrate.conftest import project_for
from tests.orchestrate.test_partitions import STATE_ID, calls_per_account, stored_state
from tests.support.pipelines import callrail_pipeline


def project_in(folder, **env) -> MeltanoProject:
    return MeltanoProject(folder, "meltano", "sandbox", env)


def a_system_directory(folder):
    shared = folder / ".meltano"
    (shared / "extractors" / "tap-x" / "venv").mkdir(parents=True)
    (shared / "run" / "tap-x").mkdir(parents=True)
    (shared / "run" / "tap-x" / "tap.properties.json").write_text("{}")
    (shared / "meltano.db").write_text("")
    (shared / "analytics.json").write_text("{}")
    return shared


def test_a_run_keeps_its_run_folder_and_shares_the_installed_plugins_and_the_database(tmp_path):
    shared = a_system_directory(tmp_path)
    project = project_in(tmp_path, MELTANO_DATABASE_URI="sqlite:///elsewhere.db")
    with (
        private_sys_dir(project, "run-one-id") as first,
        private_sys_dir(project, "run-two") as second,
    ):
        assert first["MELTANO_SYS_DIR_ROOT"] != second["MELTANO_SYS_DIR_ROOT"]
        entries = {p.name: p for p in (shared / "run" / "dagster").glob("run-one*/*")}
        assert set(entries) == {"extractors", "analytics.json"}
        assert entries["extractors"].resolve() == (shared / "extractors").resolve()
        assert first["MELTANO_DATABASE_URI"] == "sqlite:///elsewhere.db"
    assert list((shared / "run" / "dagster").iterdir()) == []
    assert (shared / "extractors" / "tap-x" / "venv").is_dir()
    assert (shared / "run" / "tap-x" / "tap.properties.json").read_text() == "{}"


def test_the_project_system_directory_may_be_moved_by_the_environment(tmp_path):
    shared = a_system_directory(tmp_path / "elsewhere")
    project = project_in(
        tmp_path, MELTANO_SYS_DIR_ROOT=str(shared), MELTANO_DATABASE_URI="sqlite:///x.db"
    )
    with private_sys_dir(project, "abc") as env:
        assert env["MELTANO_SYS_DIR_ROOT"].startswith(str(shared.resolve() / "run" / "dagster"))


def test_without_a_database_in_the_environment_the_one_meltano_resolves_is_kept(
    meltano_installed, tmp_path
):
    env = {k: v for k, v in os.environ.items() if k != "MELTANO_DATABASE_URI"}
    project = MeltanoProject(meltano_installed.folder, meltano_installed.executable, "sandbox", env)
    with private_sys_dir(project, "abc") as own:
        assert own["MELTANO_DATABASE_URI"] == (
            f"sqlite:///{(meltano_installed.folder / '.meltano' / 'meltano.db').resolve()}"
        )


PARTITION_RUN = """
import sys
import dagster as dg
from orchestrate.definitions import defs
job = defs.resolve_job_def("callrail_by_account")
result = job.execute_in_process(instance=dg.DagsterInstance.ephemeral(), partition_key=sys.argv[1])
sys.exit(0 if result.success else 1)
"""


def test_partitions_started_at_once_each_complete_with_their_own_state(
    meltano_installed, warehouse_url, db, tmp_path, callrail_server, schemas
):
    """Each partition runs as a Dagster run worker would: a process of its own loading the
    code location. In one shared `.meltano/run/tap-callrail/` they deleted each other's
    catalog ("the catalog file … does not exist")."""
    accounts = sorted(callrail_server.accounts)
    project, _ = project_for(
        meltano_installed,
        tmp_path,
        warehouse_url,
        schemas,
        **callrail_pipeline(callrail_server).env,
        TAP_CALLRAIL_ACCOUNT_IDS=json.dumps(accounts),
        MELTANO_PROJECT_ROOT=str(meltano_installed.folder),
        MELTANO=meltano_installed.executable,
        MELTANO_ENVIRONMENT="sandbox",
    )
    # The code location loads once before any run starts (creating Meltano's database).
    assert build_definitions(project).resolve_job_def("callrail_by_account")
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", PARTITION_RUN, account],
            env=project.env,
            stdout=subprocess.DEVNULL,
            stderr=(tmp_path / f"{account}.log").open("w"),
        )
        for account in accounts
    ]
    exits = [worker.wait(timeout=600) for worker in workers]
    logs = {a: (tmp_path / f"{a}.log").read_text()[-6000:] for a in accounts}
    assert exits == [0] * len(accounts), logs
    calls = {a: sum(1 for _ in callrail_server.accounts[a].calls.live_records()) for a in accounts}
    assert calls_per_account(db, schemas["tap-callrail"]) == calls
    assert all(stored_state(project, f"{STATE_ID}:{a}") for a in accounts)
    assert list((meltano_installed.folder / ".meltano" / "run" / "dagster").iterdir()) == []
