"""Benchmark history mode against upsert on the same rows, in the same run.

Generates N CallRail-like call records, and a second load of the same keys in which every
tenth record changed. For upsert and for history (`load_methods: {"calls": "history"}`) it
times a first load into an empty schema and the second load, and prints seconds,
records/s, peak memory (max RSS of the target process), the ratio history / upsert and
how many versions the history table holds.

    python tests/benchmarks/target_warehouse_history.py --records 200000
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import warehouse  # noqa: E402
from sandbox.sample_calls import write_stream  # noqa: E402
from tests.benchmarks.target_warehouse_load import run_target  # noqa: E402

SCHEMA = "benchmark_history"


def write_tenth_changed(first: Path, changed: Path, out: Path) -> int:
    """The first load again, with every tenth record taken from the changed generation."""
    count = 0
    with first.open() as same, changed.open() as other, out.open("w") as target:
        for position, (line, changed_line) in enumerate(zip(same, other, strict=True)):
            is_record = line.startswith('{"type": "RECORD"')
            pick = is_record and position % 10 == 0
            count += pick
            target.write(changed_line if pick else line)
    return count


def versions(url: str) -> tuple[int, int]:
    """(rows, current rows) of the history table."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            f"SELECT count(*), count(*) FILTER (WHERE _sdc_valid_to IS NULL) FROM {SCHEMA}.calls"
        )
        return cursor.fetchone()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; medians are printed")
    parser.add_argument("--url", default=os.environ.get("WAREHOUSE_TEST_URL"))
    args = parser.parse_args()
    url = args.url or warehouse.start(ROOT / ".warehouse" / "bench-pgdata", stop_at_exit=True)
    folder = Path(tempfile.mkdtemp(prefix="wh-history-bench-"))
    timings: dict[tuple[str, str], list[tuple[float, int]]] = {}
    try:
        first, changed, second = (folder / f"{n}.jsonl" for n in ("first", "changed", "second"))
        write_stream(first, args.records, generation=1)
        write_stream(changed, args.records, generation=2)
        changed_count = write_tenth_changed(first, changed, second)
        os.sync()
        configs = {}
        for method in ("upsert", "history"):
            settings = {**warehouse.target_config(url), "default_target_schema": SCHEMA}
            settings["load_methods"] = {"calls": method}
            configs[method] = folder / f"{method}.json"
            configs[method].write_text(json.dumps(settings))
        for _ in range(args.repeat):
            for method, config in configs.items():
                drop = f"DROP SCHEMA IF EXISTS {SCHEMA} CASCADE"
                subprocess.run(["psql", url, "-qc", drop], check=True, capture_output=True)
                timings.setdefault((method, "first"), []).append(run_target(config, first))
                timings.setdefault((method, "second"), []).append(run_target(config, second))
        stored, current = versions(url)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n = args.records
    print(f"records: {n}   changed in the second load: {changed_count}   machine: "
          f"{os.cpu_count()} cores   median of {args.repeat} rounds")  # fmt: skip
    print(f"{'run':<34}{'seconds':>9}{'records/s':>12}{'peak MB':>9}")
    medians = {}
    for (method, load), runs in timings.items():
        seconds, peak = statistics.median(r[0] for r in runs), max(r[1] for r in runs)
        medians[(method, load)] = seconds
        print(f"{method + ' ' + load + ' load':<34}{seconds:>9.2f}{n / seconds:>12,.0f}{peak:>9}")
    for load in ("first", "second"):
        ratio = medians[("history", load)] / medians[("upsert", load)]
        print(f"history / upsert, {load} load: {ratio:.2f}x")
    print(f"history table: {stored} versions, {current} current")


if __name__ == "__main__":
    main()
