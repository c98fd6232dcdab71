"""Benchmark tap-genius reading the appointment table of a real MariaDB.

Seeds N appointments (and the HubSpot join tables) in a throwaway MariaDB, then in the same
run measures:
1. the raw `SELECT` of the same columns through PyMySQL's streaming cursor, no tap at all;
2. the tap (console script, appointments selected) emitting RECORD messages to a pipe,
   with its peak memory; at two sizes, so flat memory shows.

    python tests/benchmarks/tap_genius_read.py --appointments 1000000
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from pathlib import Path

import pymysql
import pymysql.cursors
import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stand_in_process

sys.path.insert(0, str(stand_in_process.ROOT))
from tap_genius.streams import AppointmentsStream

from sandbox import genius, mariadb
from tests.support.singer_run import catalog_selecting

SEEDED = {"appointment", "third_party_source", "third_party_source_type"}


def seed(server: mariadb.MariaDB, appointments: int) -> float:
    started = time.perf_counter()
    genius.seed(sa.create_engine(server.url), appointments=appointments, only=SEEDED)
    return time.perf_counter() - started


def raw_select(server: mariadb.MariaDB) -> tuple[float, int]:
    """Seconds to stream every appointment row through PyMySQL, and the row count."""
    connection = pymysql.connect(
        **{**server.settings(), "cursorclass": pymysql.cursors.SSCursor}, charset="utf8mb4"
    )
    columns = ", ".join(f"`{name}`" for name in AppointmentsStream.columns)
    started = time.perf_counter()
    count = 0
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {columns} FROM appointment ORDER BY updated_at, id")
        for _ in cursor:
            count += 1
    connection.close()
    return time.perf_counter() - started, count


def tap_run(server: mariadb.MariaDB) -> stand_in_process.TapFigures:
    """The tap with only `appointments` selected (its catalog from --discover)."""
    config = {**server.settings(), "chunk_size": 100_000}
    executable = str(Path(sys.executable).with_name("tap-genius"))
    with tempfile.TemporaryDirectory() as folder:
        config_path, catalog_path = Path(folder) / "config.json", Path(folder) / "catalog.json"
        config_path.write_text(json.dumps(config))
        catalog = catalog_selecting(executable, config_path, ["appointments"])
        catalog_path.write_text(json.dumps(catalog))
        return stand_in_process.run_tap("tap-genius", config, "--catalog", str(catalog_path))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--appointments", type=int, default=1_000_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server = mariadb.start(Path(folder) / "mariadb")
        try:
            print(
                f"{'appointments':>12}{'seed s':>8}{'raw SELECT s':>13}{'tap s':>8}"
                f"{'records/s':>11}{'tap/raw':>8}{'peak MB':>9}"
            )
            for size in (max(args.appointments // 10, 1000), args.appointments):
                seeded = seed(server, size)
                raw_seconds, raw_rows = raw_select(server)
                run = tap_run(server)
                # The seed adds the sandbox story's own appointments to the `size` asked for.
                assert run.records["appointments"] == raw_rows >= size, (run.records, raw_rows)
                print(
                    f"{raw_rows:>12}{seeded:>8.1f}{raw_seconds:>13.1f}{run.seconds:>8.1f}"
                    f"{raw_rows / run.seconds:>11,.0f}{run.seconds / raw_seconds:>8.2f}"
                    f"{run.peak_mb:>9}"
                )
        finally:
            server.stop()


if __name__ == "__main__":
    main()
