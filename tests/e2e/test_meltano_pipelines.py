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

import decimal
import hashlib
import json
import os
import subprocess
import sys
import tempfile
import typing as t
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import pytest
import requests
import sqlalchemy as sa

from sandbox import genius

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def canon(value: t.Any) -> str:
    """One text form for a value on either side (numbers exact, booleans lowercase)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float, decimal.Decimal)):
        number = decimal.Decimal(str(value))
        return "" if not number.is_finite() else format(number.normalize(), "f")
    return str(value)


@dataclass
class Check:
    """A warehouse table compared with the source: key → value."""

    table: str
    key_sql: str
    value_sql: str
    truth: t.Callable[[], dict[str, str]]


@dataclass
class Pipeline:
    source: str
    env: dict[str, str]
    checks: list[Check]
    mutate: t.Callable[[], dict[str, tuple[int, int]]]
    """Changes the source; returns per table the (created, updated) rows a delta must write."""
    schema: str = field(default_factory=lambda: f"e2e_{uuid.uuid4().hex[:8]}")


def meltano_executable() -> str:
    executable = os.environ.get("MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")
    if not Path(executable).exists():
        pytest.skip("Meltano is not installed (make test installs it in .venv-meltano)")
    return executable


PACKAGES = ("suite-common", "tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp")


@dataclass
class Installed:
    executable: str
    folder: Path


@pytest.fixture(scope="session")
def meltano_installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The project's meltano.yml in a folder of its own (the packages linked in), installed:
    a developer's .env and .meltano/ cannot change what the tests see."""
    executable = meltano_executable()
    folder = tmp_path_factory.mktemp("meltano-project")
    (folder / "meltano.yml").write_text((ROOT / "meltano.yml").read_text())
    for package in (*PACKAGES, "target-warehouse"):
        (folder / package).symlink_to(ROOT / package)
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    done = subprocess.run(
        [executable, "install"], cwd=folder, env=env, capture_output=True, text=True, timeout=900
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return Installed(executable, folder)


class Project:
    """The repository's Meltano project with a throwaway system database."""

    def __init__(self, installed: Installed, folder: Path, pipeline: Pipeline, url: str) -> None:
        self.executable = installed.executable
        self.project = installed.folder
        self.pipeline = pipeline
        self.url = url
        extractor = f"TAP_{pipeline.source.upper().replace('-', '_')}"
        self.env = {
            **os.environ,
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
            "TARGET_WAREHOUSE_SQLALCHEMY_URL": url,
            "TARGET_WAREHOUSE_HISTORY_SCHEMA": f"{pipeline.schema}_history",
            f"{extractor}__LOAD_SCHEMA": pipeline.schema,
            **pipeline.env,
        }

    def meltano(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [self.executable, *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return done

    def run(self, *flags: str) -> None:
        self.meltano("run", *flags, f"tap-{self.pipeline.source}", "target-warehouse")

    def state(self) -> dict:
        state_id = f"sandbox:tap-{self.pipeline.source}-to-target-warehouse"
        return json.loads(self.meltano("state", "get", state_id).stdout)

    def standalone(self, schema: str) -> None:
        """The tap alone with the config JSON Meltano generates, piped into the target."""
        tap = f"tap-{self.pipeline.source}"
        config = self.meltano("invoke", "--dump=config", tap).stdout
        with tempfile.TemporaryDirectory() as folder:
            tap_path, target_path = Path(folder) / "tap.json", Path(folder) / "target.json"
            tap_path.write_text(config)
            target_path.write_text(
                json.dumps(
                    {
                        "sqlalchemy_url": self.url,
                        "default_target_schema": schema,
                        "history_schema": f"{schema}_history",
                    }
                )
            )
            extract = subprocess.Popen(
                [str(BIN / tap), "--config", str(tap_path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.DEVNULL,
            )
            load = subprocess.run(
                [str(BIN / "target-warehouse"), "--config", str(target_path)],
                stdin=extract.stdout,
                capture_output=True,
                timeout=600,
            )
            assert extract.wait() == 0 and load.returncode == 0, load.stderr[-3000:]


def landed(db: t.Any, schema: str, check: Check) -> dict[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT ({check.key_sql})::text, {check.value_sql} FROM "{schema}"."{check.table}"'
        )
        found = cursor.fetchall()
    keys = [key for key, _ in found]
    assert len(keys) == len(set(keys)), f"{check.table}: duplicate keys"
    return {key: canon(value) for key, value in found}


def checksum(rows: dict[str, str]) -> str:
    text = "\n".join(f"{key}|{value}" for key, value in sorted(rows.items()))
    return hashlib.md5(text.encode()).hexdigest()


def assert_equal_to_source(db: t.Any, schema: str, pipeline: Pipeline) -> None:
    for check in pipeline.checks:
        expected, found = check.truth(), landed(db, schema, check)
        assert len(found) == len(expected), check.table
        assert checksum(found) == checksum(expected), (
            check.table,
            {k: (found.get(k), v) for k, v in expected.items() if found.get(k) != v},
        )


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


# The four pipelines ---------------------------------------------------------------------


def erp_pipeline(server: t.Any) -> Pipeline:
    def rows(table: str, key: t.Callable, value: str) -> t.Callable[[], dict[str, str]]:
        return lambda: {str(key(r)): canon(r[value]) for r in server.tables[table].live_records()}

    def mutate() -> dict[str, tuple[int, int]]:
        changes = requests.post(
            f"{server.url}/_sandbox/mutate", json={"updates": 5, "creates": 3}, timeout=30
        ).json()
        kunden = changes["Kunden"]
        return {"kunden": (len(kunden["created"]), len(kunden["updated"]))}

    return Pipeline(
        source="legacy-erp",
        env={"SANDBOX_LEGACY_ERP_URL": server.url},
        checks=[
            Check("kunden", "_key", "rabatt", rows("Kunden", lambda r: r["__KEY"], "Rabatt")),
            Check("belege", "abs_nr", "bezahlt", rows("Belege", lambda r: r["AbsNr"], "bezahlt")),
            Check(
                "artikel_variante",
                "_key",
                "bezeichnung",
                rows("Artikel_Variante", lambda r: r["__KEY"], "Bezeichnung"),
            ),
            Check(
                "belege_pos",
                "abs_nr || '.' || pos_nr",
                "menge",
                rows("Belege_Pos", lambda r: f"{r['AbsNr']}.{r['PosNr']}", "Menge"),
            ),
        ],
        mutate=mutate,
    )


def arrivy_pipeline(server: t.Any) -> Pipeline:
    def customers() -> dict[str, str]:
        return {str(r["id"]): canon(r.get("notes")) for r in server.customers.live_records()}

    def tasks() -> dict[str, str]:
        every = [*server.tasks.live_records(), *server.unscheduled.live_records()]
        return {str(r["id"]): canon(r.get("title")) for r in every}

    def mutate() -> dict[str, tuple[int, int]]:
        changes = requests.post(
            f"{server.url}/_sandbox/mutate", json={"deletes": 0}, timeout=30
        ).json()
        touched = changes["customers"]
        return {"customers": (len(touched["created"]), len(touched["updated"]))}

    return Pipeline(
        source="arrivy",
        env={
            "SANDBOX_ARRIVY_URL": server.url,
            "SANDBOX_ARRIVY_AUTH_KEY": "sandbox-arrivy-key",
            "SANDBOX_ARRIVY_AUTH_TOKEN": "sandbox-arrivy-token",
        },
        checks=[
            Check("customers", "id", "notes", customers),
            Check("tasks", "id", "title", tasks),
        ],
        mutate=mutate,
    )


def callrail_pipeline(server: t.Any) -> Pipeline:
    def listed(collection: str, value: str) -> t.Callable[[], dict[str, str]]:
        def truth() -> dict[str, str]:
            found = {}
            for account in server.accounts.values():
                for record in account.collection(collection).live_records():
                    found[str(record["id"])] = canon(record.get(value))
            return found

        return truth

    def mutate() -> dict[str, tuple[int, int]]:
        # New calls only: an update to a call older than the lookback window is not visible
        # to any incremental read of CallRail (calls are listed by start time).
        changes = requests.post(
            f"{server.url}/_sandbox/mutate",
            json={"updates": 0, "deletes": 0, "creates": 4},
            timeout=30,
        ).json()
        created = sum(len(account["calls"]["created"]) for account in changes.values())
        return {"calls": (created, 0)}

    return Pipeline(
        source="callrail",
        env={
            "SANDBOX_CALLRAIL_URL": server.url,
            "SANDBOX_CALLRAIL_API_KEY": "sandbox-callrail-key",
        },
        checks=[
            Check("calls", "id", "note", listed("calls", "note")),
            Check("companies", "id", "status", listed("companies", "status")),
        ],
        mutate=mutate,
    )


def genius_pipeline(engine: sa.Engine, url: str) -> Pipeline:
    def selected(sql: str) -> t.Callable[[], dict[str, str]]:
        def truth() -> dict[str, str]:
            with engine.connect() as connection:
                return {str(key): canon(value) for key, value in connection.exec_driver_sql(sql)}

        return truth

    def mutate() -> dict[str, tuple[int, int]]:
        changes = genius.mutate(engine, round_number=2)
        appointment = changes["appointment"]
        return {"appointments": (len(appointment["created"]), len(appointment["updated"]))}

    return Pipeline(
        source="genius",
        env={"SANDBOX_GENIUS_URL": url},
        checks=[
            Check("appointments", "id", "notes", selected("SELECT id, notes FROM appointment")),
            Check("quotes", "id", "amount", selected("SELECT id, amount FROM quote")),
            Check(
                "appointment_services",
                "appointment_id || '.' || service_id",
                "NULL",
                selected(
                    "SELECT CONCAT(appointment_id, '.', service_id), NULL "
                    "FROM appointment_to_service"
                ),
            ),
        ],
        mutate=mutate,
    )


@pytest.fixture(params=["legacy-erp", "arrivy", "callrail", "genius"])
def pipeline(request: pytest.FixtureRequest) -> Pipeline:
    if request.param == "legacy-erp":
        return erp_pipeline(request.getfixturevalue("erp_server"))
    if request.param == "arrivy":
        return arrivy_pipeline(request.getfixturevalue("arrivy_server"))
    if request.param == "callrail":
        return callrail_pipeline(request.getfixturevalue("callrail_server"))
    engine = request.getfixturevalue("genius_db")
    return genius_pipeline(engine, request.getfixturevalue("mariadb_server").url)


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
    nightly = schedules["legacy-erp-nightly-full"]
    assert nightly["cron_interval"] == "0 2 * * *"
    assert nightly["env"]["MELTANO_RUN_FULL_REFRESH"] == "true"
    assert {"arrivy-incremental", "callrail-incremental", "genius-incremental"} <= set(schedules)
