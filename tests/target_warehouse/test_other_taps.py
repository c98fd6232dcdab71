"""Other Singer taps' output loads: singer-io's and pipelinewise's tap-mysql (PyPI) read the
Genius test database, and target-warehouse loads what they send, validation on.

They write what the suite's own tap does not: ACTIVATE_VERSION before a stream's SCHEMA
(singer-io's first full-table sync), DECIMAL columns as `multipleOf: 0.01`, MySQL TIME as
`H:MM:SS`, zero dates as text (pipelinewise). Every row lands or is quarantined with its
reason; nothing ends in a traceback; a second full sync retires the rows the source deleted.
"""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import tempfile
import typing as t
from pathlib import Path

import pytest
import sqlalchemy as sa
from target_warehouse.naming import identifier

from sandbox import genius
from tests.target_warehouse.singer import TARGET

ROOT = Path(__file__).resolve().parents[2]
TAPS = {"singer-io": "singer-io", "pipelinewise": "pipelinewise"}


def other_tap(name: str) -> str:
    """The tap-mysql of `name` in the venv `make test` installs (OTHER_TAPS); the test skips,
    saying so, where it is missing."""
    folder = Path(os.environ.get("OTHER_TAPS") or ROOT / ".venv-other-taps")
    executable = folder / name / "bin" / "tap-mysql"
    if not executable.exists():
        pytest.skip(f"{name} tap-mysql is not installed (make test installs it in {folder})")
    return str(executable)


def run_other_tap(name: str, settings: dict, target_config: dict, state: dict | None) -> dict:
    """Discover, select every table full-table, sync into target-warehouse; the last state."""
    executable = other_tap(name)
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "tap.json"
        config.write_text(json.dumps({**settings, "filter_dbs": settings["database"]}))
        discovered = subprocess.run(
            [executable, "--config", str(config), "--discover"],
            capture_output=True,
            timeout=300,
            check=True,
        )
        catalog = Path(folder) / "catalog.json"
        catalog.write_text(json.dumps(select_all(json.loads(discovered.stdout))))
        target = Path(folder) / "target.json"
        target.write_text(json.dumps(target_config))
        state_args = []
        if state is not None:
            (Path(folder) / "state.json").write_text(json.dumps(state))
            state_args = ["--state", str(Path(folder) / "state.json")]
        tap = subprocess.Popen(
            [executable, "--config", str(config), "--catalog", str(catalog), *state_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        load = subprocess.Popen(
            [*TARGET, "--config", str(target)],
            stdin=tap.stdout,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        t.cast(t.IO[bytes], tap.stdout).close()  # a target that stops makes the tap stop too
        stdout, stderr = load.communicate(timeout=600)
        tap.wait(timeout=60)
    assert load.returncode == 0 and "Traceback" not in stderr.decode(), stderr.decode()[-3000:]
    assert tap.returncode == 0
    states = [json.loads(line) for line in stdout.decode().splitlines() if line.strip()]
    return states[-1]


def select_all(catalog: dict) -> dict:
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            entry["metadata"]["selected"] = True
            if entry["breadcrumb"] == []:
                entry["metadata"]["replication-method"] = "FULL_TABLE"
    return catalog


def stream_name(tap: str, table: str) -> str:
    return table if tap == "singer-io" else f"genius-{table}"


def counts(db, schema: str, history: str, tap: str, table: str) -> tuple[int, int, int]:
    """Live rows, rows marked deleted, and quarantined records of a table's stream. The
    stream `genius-<table>` (pipelinewise's name) lands in `<table>`, as in pipelinewise's
    and MeltanoLabs' Postgres targets."""
    stream = stream_name(tap, table)
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*) FILTER (WHERE _sdc_deleted_at IS NULL), "
            "count(*) FILTER (WHERE _sdc_deleted_at IS NOT NULL) "
            f'FROM "{schema}"."{identifier(table)}"'
        )
        live, deleted = cursor.fetchone()
        cursor.execute(
            f'SELECT count(*) FROM "{history}".rejected_records WHERE stream = %s', (stream,)
        )
        return live, deleted, cursor.fetchone()[0]


@pytest.mark.parametrize("tap", list(TAPS))
def test_another_taps_full_sync_loads_and_its_next_one_retires_deleted_rows(
    tap, mariadb_server, genius_db, target_config, db
):
    schema, history = target_config["default_target_schema"], target_config["history_schema"]
    state = run_other_tap(tap, mariadb_server.settings(), target_config, None)
    source = {name: _count(genius_db, name) for name in genius.TABLES}
    for table, rows in source.items():
        live, deleted, quarantined = counts(db, schema, history, tap, table)
        assert (live + quarantined, deleted) == (rows, 0), (table, live, quarantined)
        if quarantined:  # only MySQL's zero dates, refused by a date-time column
            with db.cursor() as cursor:
                cursor.execute(
                    f'SELECT DISTINCT error FROM "{history}".rejected_records WHERE stream = %s',
                    (stream_name(tap, table),),
                )
                errors = [row[0] for row in cursor.fetchall()]
            assert all("0000-00-00" in error for error in errors), errors
    _amounts_are_exact(db, schema, "quote", genius_db)

    planted = genius.drift(genius_db)
    run_other_tap(tap, mariadb_server.settings(), target_config, state)
    for table, found in planted.items():
        live, deleted, _ = counts(db, schema, history, tap, table)
        assert deleted == len(found.deleted), table


def _amounts_are_exact(db, schema: str, table: str, engine: sa.Engine) -> None:
    with engine.connect() as connection:
        truth = dict(connection.exec_driver_sql("SELECT id, amount FROM quote").all())
    with db.cursor() as cursor:
        cursor.execute(f'SELECT id, amount FROM "{schema}"."{identifier(table)}"')
        landed = dict(cursor.fetchall())
    assert landed == truth
    assert all(isinstance(v, decimal.Decimal) for v in landed.values() if v is not None)


def _count(engine: sa.Engine, table: str) -> int:
    with engine.connect() as connection:
        return connection.exec_driver_sql(f"SELECT COUNT(*) FROM `{table}`").scalar()
