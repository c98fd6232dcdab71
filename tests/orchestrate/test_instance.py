"""The suite as production runs it, on one machine: `dagster dev` (webserver and daemon) with
the repository's dagster.yaml, the instance's runs, events and schedules on the embedded
Postgres, Meltano's system database there too, runs launched through the webserver's
GraphQL API against the stand-ins. A second run of a pipeline waits in the queue while the
first runs; another pipeline runs beside it."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import types
import uuid
from pathlib import Path

import psycopg2
import pytest
import requests
import yaml
from psycopg2 import sql

from tests.orchestrate.conftest import project_for
from tests.support.pipelines import (
    arrivy_pipeline,
    assert_equal_to_source,
    callrail_pipeline,
    erp_pipeline,
)

ROOT = Path(__file__).resolve().parents[2]
LOCATION = "orchestrate.definitions"
FINISHED = {"SUCCESS", "FAILURE", "CANCELED"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def database(warehouse_url: str, prefix: str):
    """A database of its own on the embedded Postgres; its URL, dropped afterwards."""
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(warehouse_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    base, _, query = warehouse_url.partition("?")
    url = base.rsplit("/", 1)[0] + f"/{name}" + (f"?{query}" if query else "")
    try:
        yield url
    finally:
        with admin.cursor() as cursor:
            cursor.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )
        admin.close()


class Webserver:
    """`dagster dev` in a process of its own, and its GraphQL API."""

    def __init__(self, home: Path, env: dict[str, str]) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        dagster = str(Path(sys.executable).with_name("dagster"))
        self.process = subprocess.Popen(
            [dagster, "dev", "-m", LOCATION, "-h", "127.0.0.1", "-p", str(self.port)],
            env={**env, "DAGSTER_HOME": str(home)},
            stdout=subprocess.DEVNULL,
            stderr=open(home / "dagster-dev.log", "w"),  # noqa: SIM115 (closed with the process)
            start_new_session=True,
        )
        self.home = home

    def wait_until_loaded(self, timeout: float = 180) -> None:
        """Until the code location has loaded (its load error, if it fails)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process.poll() is None, (self.home / "dagster-dev.log").read_text()
            with contextlib.suppress(requests.RequestException):
                entries = self.query(
                    """{ workspaceOrError { ... on Workspace { locationEntries {
                         loadStatus locationOrLoadError { __typename
                           ... on PythonError { message } } } } } }"""
                )["workspaceOrError"]["locationEntries"]
                if entries and entries[0]["loadStatus"] == "LOADED":
                    location = entries[0]["locationOrLoadError"]
                    assert location["__typename"] == "RepositoryLocation", location
                    return
            time.sleep(1)
        raise AssertionError("dagster dev did not load the code location in time")

    def query(self, text: str, **variables) -> dict:
        answer = requests.post(
            f"{self.url}/graphql", json={"query": text, "variables": variables}, timeout=60
        )
        answer.raise_for_status()
        body = answer.json()
        assert "errors" not in body, body["errors"]
        return body["data"]

    def launch(self, job: str) -> str:
        found = self.query(
            """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
                 __typename ... on LaunchRunSuccess { run { runId } }
                 ... on PythonError { message } } }""",
            params={
                "selector": {
                    "repositoryLocationName": LOCATION,
                    "repositoryName": "__repository__",
                    "jobName": job,
                },
                "runConfigData": {},
            },
        )["launchRun"]
        assert found["__typename"] == "LaunchRunSuccess", found
        return found["run"]["runId"]

    def run(self, run_id: str) -> dict:
        return self.query(
            """query($id: ID!) { runOrError(runId: $id) { ... on Run {
                 status startTime endTime } } }""",
            id=run_id,
        )["runOrError"]

    def stop(self) -> None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()


@pytest.fixture
def webserver(meltano_installed, warehouse_url, db, tmp_path, erp_server, arrivy_server, schemas):
    erp, arrivy = erp_pipeline(erp_server), arrivy_pipeline(arrivy_server)
    with (
        database(warehouse_url, "dagster") as dagster_url,
        database(warehouse_url, "meltano") as meltano_url,
    ):
        project, _ = project_for(
            meltano_installed, tmp_path, warehouse_url, schemas, **erp.env, **arrivy.env
        )
        home = tmp_path / "dagster-home"
        home.mkdir()
        instance = yaml.safe_load((ROOT / "orchestrate" / "dagster.yaml").read_text())
        # psycopg2 named: SQLAlchemy 2.1 takes psycopg 3 for a bare postgresql:// URL.
        psycopg2_url = dagster_url.replace("postgresql://", "postgresql+psycopg2://", 1)
        instance["storage"] = {"postgres": {"postgres_url": psycopg2_url}}
        (home / "dagster.yaml").write_text(yaml.safe_dump(instance))
        env = {
            **project.env,
            "MELTANO": project.executable,
            "MELTANO_PROJECT_ROOT": str(project.folder),
            "MELTANO_ENVIRONMENT": "sandbox",
            # Meltano's postgres extra brings psycopg 3, named in the URL.
            "MELTANO_DATABASE_URI": meltano_url.replace("postgresql://", "postgresql+psycopg://"),
        }
        server = Webserver(home, env)
        try:
            server.wait_until_loaded()
            yield types.SimpleNamespace(
                server=server,
                dagster_url=dagster_url,
                meltano_url=meltano_url,
                schemas=schemas,
                erp=erp,
                arrivy=arrivy,
                arrivy_server=arrivy_server,
            )
        finally:
            server.stop()


def wait_for(server: Webserver, run_id: str, status: set[str], timeout: float = 300) -> dict:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = server.run(run_id)
        if found["status"] in status:
            return found
        time.sleep(0.5)
    raise AssertionError(f"run {run_id} still {found['status']}, not {status}")


def test_the_webserver_lists_every_job_schedule_and_table_of_meltano_yml(webserver):
    server = webserver.server
    found = server.query(
        """{ repositoriesOrError { ... on RepositoryConnection { nodes {
             jobs { name } schedules { name cronSchedule }
             assetNodes { assetKey { path } } } } } }"""
    )["repositoriesOrError"]["nodes"][0]
    jobs = {job["name"] for job in found["jobs"]}
    assert {"arrivy", "callrail", "genius", "legacy_erp", "all", "callrail_reconcile"} <= jobs
    schedules = {s["name"]: s["cronSchedule"] for s in found["schedules"]}
    assert schedules["legacy_erp_incremental"] == "*/5 * * * *"
    assert schedules["legacy_erp_reconcile_nightly"] == "0 2 * * *"
    tables = {"/".join(node["assetKey"]["path"]) for node in found["assetNodes"]}
    schemas = webserver.schemas  # each table's asset key is its load schema and name
    assert {
        f"{schemas['tap-callrail']}/calls",
        f"{schemas['tap-legacy-erp']}/belege",
        f"{schemas['tap-arrivy']}/tasks",
        f"{schemas['tap-genius']}/appointments",
    } <= tables


def test_a_second_run_of_a_pipeline_waits_in_the_queue_while_another_pipeline_runs(webserver, db):
    server = webserver.server
    requests.post(
        f"{webserver.arrivy_server.url}/_sandbox/faults",
        json={"faults": [{"kind": "slow", "delay": 0.4, "times": 60}]},
        timeout=5,
    )
    first = server.launch("arrivy")
    wait_for(server, first, {"STARTED"} | FINISHED)
    second = server.launch("arrivy")
    other = server.launch("legacy_erp")

    seen_second, seen_other = set(), set()
    while server.run(first)["status"] not in FINISHED:
        seen_second.add(server.run(second)["status"])
        seen_other.add(server.run(other)["status"])
        time.sleep(0.5)
    assert seen_second == {"QUEUED"}
    assert seen_other & ({"STARTED"} | FINISHED)

    runs = {run_id: wait_for(server, run_id, FINISHED) for run_id in (first, second, other)}
    assert {run["status"] for run in runs.values()} == {"SUCCESS"}
    assert runs[second]["startTime"] >= runs[first]["endTime"]
    assert_equal_to_source(db, webserver.schemas["tap-arrivy"], webserver.arrivy)
    assert_equal_to_source(db, webserver.schemas["tap-legacy-erp"], webserver.erp)
    with psycopg2.connect(webserver.dagster_url) as dagster_db, dagster_db.cursor() as cursor:
        cursor.execute("SELECT run_id FROM runs")
        assert {first, second, other} <= {row[0] for row in cursor.fetchall()}
    with psycopg2.connect(webserver.meltano_url) as meltano_db, meltano_db.cursor() as cursor:
        cursor.execute("SELECT state_id FROM state")
        assert {row[0] for row in cursor.fetchall()} == {
            "sandbox:tap-arrivy-to-target-warehouse",
            "sandbox:tap-legacy-erp-to-target-warehouse",
        }


def test_dagster_job_execute_runs_a_pipeline_from_the_command_line(
    meltano_installed, warehouse_url, db, tmp_path, callrail_server, schemas
):
    pipeline = callrail_pipeline(callrail_server)
    project, history = project_for(
        meltano_installed, tmp_path, warehouse_url, schemas, **pipeline.env
    )
    home = tmp_path / "dagster-home"
    home.mkdir()
    env = {
        **project.env,
        "DAGSTER_HOME": str(home),
        "MELTANO": project.executable,
        "MELTANO_PROJECT_ROOT": str(project.folder),
        "MELTANO_ENVIRONMENT": "sandbox",
    }
    dagster = str(Path(sys.executable).with_name("dagster"))
    done = subprocess.run(
        [dagster, "job", "execute", "-m", LOCATION, "-j", "callrail"],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    assert "RUN_SUCCESS" in done.stderr
    assert_equal_to_source(db, schemas["tap-callrail"], pipeline)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT status FROM \"{history}\".sync_history WHERE meltano_run_id <> ''"
        )
        assert {row[0] for row in cursor.fetchall()} == {"success"}
