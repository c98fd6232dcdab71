"""Genius: a stamp-based delta misses deletes and changes that keep their stamp; the
reconciliation pass repairs them all, and its sync history counts exactly what it repaired.
reladiff (tests/support/oracle.py), an independent cross-database diff, is the judge."""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
import typing as t
from pathlib import Path

import pytest
from tap_genius.streams import STREAM_TYPES

from sandbox import genius
from tests.support.oracle import GeniusOracle, TableDiff
from tests.support.singer_run import run_pipeline
from tests.target_warehouse.singer import TARGET

STREAMS = {stream.name: stream.table_name for stream in STREAM_TYPES}
TABLE_STREAMS = {table: name for name, table in STREAMS.items()}


@pytest.fixture
def oracle(mariadb_server, genius_db, warehouse_url, target_schema):
    found = GeniusOracle(mariadb_server.url, warehouse_url, target_schema)
    yield found
    found.close()


def _load(tap_config: dict, target_config: dict, state: dict | None = None):
    run = run_pipeline("tap-genius", tap_config, target_config, state=state)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-3000:]
    assert "Traceback" not in run.output
    return run


def _pass_history(db, target_config) -> dict[str, dict]:
    """The reconciliation figures of the latest run of each stream."""
    with db.cursor() as cursor:
        cursor.execute(
            f"SELECT DISTINCT ON (sync_type) sync_type, reconcile_source_rows, "
            "reconcile_live_before, reconcile_retired, reconcile_drift "
            f'FROM "{target_config["history_schema"]}".sync_history '
            "ORDER BY sync_type, id DESC"
        )
        return {
            row[0]: {"at_source": row[1], "live_before": row[2], "retired": row[3], "drift": row[4]}
            for row in cursor.fetchall()
        }


def _source_rows(genius_db, table: str) -> int:
    with genius_db.connect() as connection:
        return connection.exec_driver_sql(f"SELECT COUNT(*) FROM `{table}`").scalar()


def test_a_pass_after_a_delta_leaves_every_table_equal_to_the_source(
    mariadb_server, genius_db, target_config, oracle, db
):
    tap = {**mariadb_server.settings(), "chunk_size": 40}
    first = _load(tap, target_config)
    assert oracle.differences(STREAMS) == {}, "the first load must equal the source"

    planted = genius.drift(genius_db)
    _load(tap, target_config, state=first.final_state)
    after_delta = oracle.differences(STREAMS)
    expected = {
        TABLE_STREAMS[table]: TableDiff(extra=set(found.deleted), differing=set(found.changed))
        for table, found in planted.items()
    }
    assert after_delta == expected, "a delta sees no delete and no change behind a stamp"

    _load({**tap, "reconcile": True}, target_config, state=first.final_state)
    assert oracle.differences(STREAMS) == {}, "the pass leaves nothing to repair"
    history = _pass_history(db, target_config)
    for stream, table in STREAMS.items():
        found = planted.get(table, genius.TableDrift())
        assert history[stream] == {
            "at_source": _source_rows(genius_db, table),
            "live_before": _source_rows(genius_db, table) + len(found.deleted),
            "retired": len(found.deleted),
            "drift": len(found.changed),
        }, stream
    again = _load({**tap, "reconcile": True}, target_config)
    assert "Traceback" not in again.output
    second = _pass_history(db, target_config)
    assert all(h["retired"] == h["drift"] == 0 for h in second.values()), second


def test_a_pass_cut_off_midway_retires_nothing(
    mariadb_server, genius_db, target_config, oracle, db
):
    """The tap's output ends in the middle of the appointments: no RECONCILE end came, so
    the target retires none of the rows the pass had not reached."""
    tap = {**mariadb_server.settings(), "chunk_size": 40}
    _load(tap, target_config)
    planted = genius.drift(genius_db)
    with tempfile.TemporaryDirectory() as folder:
        tap_path = Path(folder) / "tap.json"
        target_path = Path(folder) / "target.json"
        tap_path.write_text(json.dumps({**tap, "reconcile": True}))
        target_path.write_text(json.dumps(target_config))
        cut = _cut_after_records(tap_path, "appointments", 150)
        loaded = subprocess.run(
            [*TARGET, "--config", str(target_path)], input=cut, capture_output=True, timeout=300
        )
    assert loaded.returncode == 0, loaded.stderr.decode()[-2000:]
    still = oracle.compare("appointments", "appointment")
    assert still.extra == set(planted["appointment"].deleted), "nothing was retired"


def _cut_after_records(tap_config: Path, stream: str, records: int) -> bytes:
    """The tap's output up to its `records`-th record of `stream`; the tap is then stopped."""
    tap = subprocess.Popen(
        [str(Path(sys.executable).with_name("tap-genius")), "--config", str(tap_config)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    kept, seen = [], 0
    for line in t.cast(t.IO[bytes], tap.stdout):
        kept.append(line)
        message = json.loads(line)
        if message["type"] == "RECORD" and message["stream"] == stream:
            seen += 1
            if seen == records:
                break
    tap.kill()
    tap.wait()
    return b"".join(kept)
