"""pytest fixtures (a plugin of the suite's conftest): the three sources the funnel joins,
loaded by their taps into a database of their own, then the dbt project built on it, as
`make demo` does without Meltano in between. Meltano's `transform` job (tests/e2e) and the
Dagster assets (tests/orchestrate) run on the same database."""

from __future__ import annotations

import datetime
import os
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg2
import pytest
import sqlalchemy as sa
import yaml

from sandbox import genius, warehouse
from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from tests.support.pipelines import arrivy_pipeline, callrail_pipeline, genius_pipeline
from tests.support.singer_run import run_pipeline

ROOT = Path(__file__).resolve().parents[2]
PROJECT = ROOT / "transform"
STORY_MATCH_RATE = 0.04
"""What the default sandbox guarantees: 28 of its 600 calls are story calls that match."""


@dataclass
class Built:
    """A warehouse with the story loaded and the dbt project built on it."""

    url: str
    expected: dict[str, dict]
    """call id → the funnel row the story says (story calls only; others match nothing)."""
    calls: int
    build: subprocess.CompletedProcess

    @property
    def artefacts(self) -> Path:
        return dbt_output(self.url) / "target"

    def query(self, sql: str, *args: object) -> list[tuple]:
        with psycopg2.connect(self.url) as connection, connection.cursor() as cursor:
            cursor.execute("SET TIME ZONE 'UTC'")
            cursor.execute(sql, args)
            return cursor.fetchall() if cursor.description else []


def dbt_output(url: str) -> Path:
    """Where dbt writes its artefacts and logs for a database: never transform/target."""
    return Path(tempfile.gettempdir()) / f"dbt-{urlsplit(url).path.strip('/')}"


def database_url(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=f"/{name}"))


def dbt_env(url: str) -> dict[str, str]:
    """The connection as the profile reads it (transform/profiles/profiles.yml)."""
    config = warehouse.target_config(url)
    return {
        **os.environ,
        "DBT_POSTGRES_HOST": str(config["host"]),
        "DBT_POSTGRES_PORT": str(config.get("port", 5432)),
        "DBT_POSTGRES_USER": str(config["user"]),
        "DBT_POSTGRES_PASSWORD": str(config.get("password", "")),
        "DBT_POSTGRES_DBNAME": str(config["database"]),
        "DBT_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def dbt(
    url: str, *args: str, check: bool = True, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess:
    """The dbt CLI on the project, as the Meltano utility runs it; its artefacts and logs
    in a folder of the database's own, never the checkout's transform/target."""
    output = dbt_output(url)
    command = [
        str(Path(sys.executable).with_name("dbt")), *args,
        "--project-dir", str(PROJECT), "--profiles-dir", str(PROJECT / "profiles"),
        "--target-path", str(output / "target"), "--log-path", str(output / "logs"),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        env={**dbt_env(url), **(env or {})},
        capture_output=True,
        text=True,
        timeout=900,
    )
    if check:
        assert done.returncode == 0, done.stdout[-6000:] + done.stderr[-2000:]
    return done


def project_load_methods() -> dict[str, str]:
    """The per-stream load methods meltano.yml gives target-warehouse (calls, tasks and
    appointments keep their history), so dbt reads what a Meltano run would load."""
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    (target,) = [p for p in project["plugins"]["loaders"] if p["name"] == "target-warehouse"]
    return target["config"]["load_methods"]


def load(url: str, pipeline, schema: str) -> None:
    target = {
        **warehouse.target_config(url),
        "default_target_schema": schema,
        "load_methods": project_load_methods(),
    }
    run = run_pipeline(f"tap-{pipeline.source}", pipeline.tap_config, target)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-3000:]


@pytest.fixture(scope="session")
def funnel_database(warehouse_url: str) -> Iterator[str]:
    """A database of its own: the taps' schemas keep their real names (callrail, genius,
    arrivy), as dbt's sources expect."""
    name = f"funnel_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(warehouse_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"CREATE DATABASE {name}")
    yield database_url(warehouse_url, name)
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
    admin.close()


@pytest.fixture(scope="session")
def built(funnel_database: str, mariadb_server) -> Iterator[Built]:
    """The story in all three sources, loaded, and `dbt build` run on it."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    callrail = CallRailStandIn(now=now).start()
    arrivy = ArrivyStandIn(now=now).start()
    engine = sa.create_engine(mariadb_server.url)
    try:
        genius.seed(engine, appointments=300, now=now)
        load(funnel_database, callrail_pipeline(callrail), "callrail")
        load(funnel_database, arrivy_pipeline(arrivy), "arrivy")
        load(funnel_database, genius_pipeline(engine, mariadb_server.url), "genius")
        expected = callrail.story.expected_funnel(
            callrail.story_call_ids(), arrivy.task_placements()
        )
        calls = sum(len(account.calls) for account in callrail.accounts.values())
    finally:
        callrail.stop()
        arrivy.stop()
        engine.dispose()
    build = dbt(funnel_database, "build", env={"DBT_MIN_MATCH_RATE": str(STORY_MATCH_RATE)})
    yield Built(funnel_database, expected, calls, build)
