"""Benchmark the Genius reconciliation pass: every table read whole, tap and target.

Seeds the Genius tables in a throwaway MariaDB (about 5.3 rows per appointment over the 18
tables), loads them once through tap-genius | target-warehouse into the embedded Postgres,
plants drift (sandbox.genius.drift: deletes and changes behind the stamps), then times in the
same run:
1. a full re-read without state into the loaded tables (the baseline: what the pass costs
   at least, a merge of every row);
2. the reconciliation pass (`reconcile: true`), which also notes every key and retires
   what it did not receive.
Each line gives wall seconds, rows/s, the peak RSS of the tap and of the target, and the
pass's ratio to the re-read; at two sizes, so flat memory shows. Goal: 1M rows in under
two minutes on 2 cores.

    python tests/benchmarks/genius_reconcile.py --rows 1000000
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import genius, mariadb, warehouse  # noqa: E402

ROWS_PER_APPOINTMENT = 5.3
SCHEMA = "benchmark_reconcile"
BIN = Path(sys.executable).parent


@dataclass
class PipeFigures:
    seconds: float
    tap_mb: int
    target_mb: int


def pipe(tap_config: dict, target_config: dict) -> PipeFigures:
    """tap-genius | target-warehouse to the end; wall time and each side's peak RSS."""
    with tempfile.TemporaryDirectory() as folder:
        tap_path, target_path = Path(folder) / "tap.json", Path(folder) / "target.json"
        tap_path.write_text(json.dumps(tap_config))
        target_path.write_text(json.dumps(target_config))
        started = time.perf_counter()
        tap = subprocess.Popen(
            [str(BIN / "tap-genius"), "--config", str(tap_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        target = subprocess.Popen(
            [str(BIN / "target-warehouse"), "--config", str(target_path)],
            stdin=tap.stdout,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        tap.stdout.close()  # type: ignore[union-attr]
        _, tap_status, tap_usage = os.wait4(tap.pid, 0)
        _, target_status, target_usage = os.wait4(target.pid, 0)
        seconds = time.perf_counter() - started
    if tap_status or target_status:
        raise RuntimeError(f"the pipeline failed (tap {tap_status}, target {target_status})")
    return PipeFigures(seconds, tap_usage.ru_maxrss // 1024, target_usage.ru_maxrss // 1024)


def repaired(url: str, history: str) -> tuple[int, int]:
    """(retired, drift) summed over the streams of the latest pass."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT sum(reconcile_retired), sum(reconcile_drift) FROM {history}.sync_history "
            f"WHERE run_id = (SELECT run_id FROM {history}.sync_history "
            "WHERE reconcile_drift IS NOT NULL ORDER BY id DESC LIMIT 1)"
        )
        retired, drift = cursor.fetchone()
        return int(retired), int(drift)


def measure(server: mariadb.MariaDB, url: str, appointments: int) -> None:
    engine = sa.create_engine(server.url)
    started = time.perf_counter()
    counts = genius.seed(engine, appointments=appointments)
    seeded = time.perf_counter() - started
    rows = sum(counts.values())
    target = {**warehouse.target_config(url), "default_target_schema": SCHEMA}
    target["history_schema"] = f"{SCHEMA}_history"
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        for schema in (SCHEMA, target["history_schema"]):
            cursor.execute(f"DROP SCHEMA IF EXISTS {schema} CASCADE")
    tap = {**server.settings(), "chunk_size": 100_000}
    first = pipe(tap, target)
    planted = genius.drift(engine)
    again = pipe(tap, target)
    genius.drift(engine, round_number=2)
    reconcile = pipe({**tap, "reconcile": True}, target)
    retired, drift = repaired(url, target["history_schema"])
    expected = sum(len(d.deleted) for d in planted.values())
    for name, figures in (("first load", first), ("full re-read", again), ("pass", reconcile)):
        print(
            f"{rows:>10,}{name:>14}{figures.seconds:>9.1f}{rows / figures.seconds:>11,.0f}"
            f"{figures.tap_mb:>8}{figures.target_mb:>10}"
            + (f"{reconcile.seconds / again.seconds:>8.2f}x" if name == "pass" else "")
        )
    print(
        f"{'':>10}{'':>14}  seeded in {seeded:.0f} s; the pass retired {retired} and found "
        f"{drift} rows of drift (planted: {expected} deleted per round)"
    )
    engine.dispose()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000, help="rows over all tables")
    args = parser.parse_args()
    url = warehouse.start(Path(tempfile.mkdtemp()) / "pgdata", stop_at_exit=True)
    with tempfile.TemporaryDirectory() as folder:
        server = mariadb.start(Path(folder) / "mariadb")
        try:
            print(
                f"{'rows':>10}{'run':>14}{'wall s':>9}{'rows/s':>11}{'tap MB':>8}"
                f"{'target MB':>10}{'pass/re-read':>14}"
            )
            for rows in (args.rows // 4, args.rows):
                measure(server, url, int(rows / ROWS_PER_APPOINTMENT))
        finally:
            server.stop()


if __name__ == "__main__":
    main()
