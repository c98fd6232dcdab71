"""Benchmark the dbt project (transform/): `dbt build` of every model and test on the demo's
data, and on a sandbox N times larger, in the same run.

For each size: the CallRail and Arrivy stand-ins and a Genius MariaDB, seeded as `make demo`
seeds them (600 calls, 300 tasks, 300 appointments, the story's people on top) times the
scale; the three taps load them into a fresh database of an embedded Postgres; then `dbt
build` runs on it, as `meltano run transform` does. Prints the rows, the load time, dbt's
build time (wall and dbt's own), the slowest nodes, and the ratio of each size to the first.

    python tests/benchmarks/dbt_build.py --scales 1 10
"""

from __future__ import annotations

import argparse
import datetime
import json
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
from sandbox.arrivy import ArrivyStandIn  # noqa: E402
from sandbox.callrail import CallRailStandIn  # noqa: E402
from tests.support.funnel import database_url, dbt, dbt_output, load  # noqa: E402
from tests.support.pipelines import arrivy_pipeline, callrail_pipeline, genius_pipeline  # noqa: E402

DEMO = {"calls_per_account": 300, "tasks": 300, "appointments": 300}
"""`python -m sandbox up`'s defaults, which `make demo` uses."""


@dataclass
class Figures:
    scale: int
    rows: dict[str, int]
    load_seconds: float
    build_seconds: float
    dbt_seconds: float
    nodes: int
    slowest: list[tuple[str, float]]


def fresh_database(server_url: str, name: str) -> str:
    admin = psycopg2.connect(server_url)
    admin.autocommit = True
    with admin.cursor() as cursor:
        cursor.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        cursor.execute(f"CREATE DATABASE {name}")
    admin.close()
    return database_url(server_url, name)


def load_sources(url: str, scale: int, server: mariadb.MariaDB) -> float:
    """The three sources the funnel joins, seeded at `scale` and loaded by their taps."""
    now = datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0)
    callrail = CallRailStandIn(now=now, calls_per_account=DEMO["calls_per_account"] * scale)
    arrivy = ArrivyStandIn(now=now, tasks=DEMO["tasks"] * scale)
    engine = sa.create_engine(server.url)
    genius.seed(engine, appointments=DEMO["appointments"] * scale, now=now)
    callrail.start()
    arrivy.start()
    started = time.perf_counter()
    try:
        load(url, callrail_pipeline(callrail), "callrail")
        load(url, arrivy_pipeline(arrivy), "arrivy")
        load(url, genius_pipeline(engine, server.url), "genius")
    finally:
        callrail.stop()
        arrivy.stop()
        engine.dispose()
    return time.perf_counter() - started


def counted(url: str) -> dict[str, int]:
    tables = ("callrail.calls", "arrivy.tasks", "genius.appointments", "analytics.lead_funnel")
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        found = {}
        for table in tables:
            cursor.execute(f"SELECT count(*) FROM {table}")
            found[table] = cursor.fetchone()[0]
    return found


def measure(server_url: str, scale: int, server: mariadb.MariaDB) -> Figures:
    url = fresh_database(server_url, f"dbt_bench_{scale}x")
    load_seconds = load_sources(url, scale, server)
    started = time.perf_counter()
    dbt(url, "build")
    build_seconds = time.perf_counter() - started
    results = json.loads((dbt_output(url) / "target" / "run_results.json").read_text())
    timings = sorted(
        ((r["unique_id"].split(".", 2)[-1], r["execution_time"]) for r in results["results"]),
        key=lambda item: -item[1],
    )
    return Figures(
        scale=scale,
        rows=counted(url),
        load_seconds=load_seconds,
        build_seconds=build_seconds,
        dbt_seconds=results["elapsed_time"],
        nodes=len(results["results"]),
        slowest=timings[:3],
    )


def report(figures: list[Figures]) -> None:
    base = figures[0]
    for found in figures:
        rows = ", ".join(f"{table} {count}" for table, count in found.rows.items())
        print(f"\n{found.scale}x: {rows}")
        print(f"  taps load (3 pipelines): {found.load_seconds:.1f} s")
        print(
            f"  dbt build: {found.build_seconds:.1f} s wall, {found.dbt_seconds:.2f} s by dbt, "
            f"{found.nodes} nodes (models, tests, unit tests); "
            f"{found.build_seconds / base.build_seconds:.2f}x the {base.scale}x wall time"
        )
        slowest = ", ".join(f"{name} {seconds:.2f} s" for name, seconds in found.slowest)
        print(f"  slowest: {slowest}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 10])
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        server_url = warehouse.start(Path(folder) / "pgdata", stop_at_exit=True)
        server = mariadb.start(Path(folder) / "mariadb")
        try:
            report([measure(server_url, scale, server) for scale in args.scales])
        finally:
            server.stop()


if __name__ == "__main__":
    main()
