"""Benchmark target-warehouse against `psql \\copy` of the same rows, in the same run.

Generates N realistic CallRail-like call records (nested objects, arrays, timestamps,
decimals, a string key) as a Singer stream file, then measures:
  1. target-warehouse, first load (all inserts), validation on;
  2. target-warehouse, second load of the same keys with changed values (all updates);
  3. `psql \\copy` of the same rows as CSV into an indexed table (the floor);
and prints records/s, seconds, peak memory (max RSS of the target process) and ratios.

    python tests/benchmarks/target_warehouse_load.py --records 200000
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import warehouse  # noqa: E402

CALL_SCHEMA = {
    "type": "object",
    "properties": {
        "id": {"type": "string"},
        "account_id": {"type": "string"},
        "company_id": {"type": ["null", "string"]},
        "answered": {"type": ["null", "boolean"]},
        "direction": {"type": ["null", "string"]},
        "duration": {"type": ["null", "integer"]},
        "start_time": {"type": ["null", "string"], "format": "date-time"},
        "created_at": {"type": ["null", "string"], "format": "date-time"},
        "customer_phone_number": {"type": ["null", "string"]},
        "customer_name": {"type": ["null", "string"]},
        "customer_city": {"type": ["null", "string"]},
        "tracking_phone_number": {"type": ["null", "string"]},
        "source": {"type": ["null", "string"]},
        "lead_status": {"type": ["null", "string"]},
        "value": {"type": ["null", "number"]},
        "recording_duration": {"type": ["null", "integer"]},
        "tags": {
            "type": ["null", "array"],
            "items": {"type": "object", "properties": {"name": {"type": "string"}}},
        },
        "tracker": {
            "type": ["null", "object"],
            "properties": {"id": {"type": "string"}, "name": {"type": "string"}},
        },
        "note": {"type": ["null", "string"]},
        "first_call": {"type": ["null", "boolean"]},
    },
}


def call(i: int, generation: int, rng: random.Random) -> dict:
    """One call record; `generation` changes values so a second load updates every row."""
    minute = i % 60
    return {
        "id": f"CAL{i:012d}",
        "account_id": "ACC000000001",
        "company_id": f"COM{i % 40:06d}",
        "answered": rng.random() < 0.7,
        "direction": "inbound" if i % 5 else "outbound",
        "duration": rng.randint(0, 3600) + generation,
        "start_time": f"2026-0{1 + i % 9}-1{i % 10}T1{i % 10}:{minute:02d}:00.000-05:00",
        "created_at": f"2026-0{1 + i % 9}-1{i % 10}T1{i % 10}:{minute:02d}:05Z",
        "customer_phone_number": f"+1555{i % 10000000:07d}",
        "customer_name": rng.choice(["Ann Lee", "Bo Díaz", 'Cy "C" Moe', "Dee, Jr."]),
        "customer_city": rng.choice(["Austin", "Zürich", "São Paulo", None]),
        "tracking_phone_number": "+15550001111",
        "source": rng.choice(["Google Ads", "Direct", "Bing Organic"]),
        "lead_status": rng.choice(["good_lead", "not_a_lead", None]),
        "value": f"{rng.randint(0, 99999)}.{rng.randint(0, 99):02d}",
        "recording_duration": rng.randint(0, 600),
        "tags": [{"name": "booked"}, {"name": f"g{generation}"}],
        "tracker": {"id": f"TRK{i % 300:06d}", "name": "Website pool"},
        "note": "Called about roof repair\nwants a quote" if i % 7 == 0 else None,
        "first_call": i % 3 == 0,
    }


def write_stream(path: Path, count: int, generation: int) -> None:
    """The Singer file: SCHEMA, the records (value as an exact JSON number), a STATE."""
    rng = random.Random(generation)
    schema = {"type": "SCHEMA", "stream": "calls", "schema": CALL_SCHEMA, "key_properties": ["id"]}
    with path.open("w") as out:
        out.write(json.dumps(schema) + "\n")
        for i in range(count):
            record = call(i, generation, rng)
            text = json.dumps({"type": "RECORD", "stream": "calls", "record": record})
            out.write(text.replace(f'"value": "{record["value"]}"', f'"value": {record["value"]}'))
            out.write("\n")
        out.write(json.dumps({"type": "STATE", "value": {"generation": generation}}) + "\n")


def run_target(config: Path, stream: Path) -> tuple[float, int]:
    """Seconds and peak RSS (MB) of one target-warehouse run."""
    target = [sys.executable, "-m", "target_warehouse.target", "--config", str(config)]
    started = time.perf_counter()
    with stream.open("rb") as source:
        done = subprocess.run(target, stdin=source, capture_output=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        sys.exit(f"target-warehouse failed: {done.stderr.decode()[-2000:]}")
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    return seconds, peak_kb // 1024


def psql_copy(url: str, stream: Path, csv_path: Path, schema: str) -> float:
    """Seconds for `psql \\copy` of the same rows as CSV into an indexed table."""
    columns = list(CALL_SCHEMA["properties"])
    with stream.open() as source, csv_path.open("w", newline="") as out:
        writer = csv.writer(out)
        for line in source:
            message = json.loads(line)
            if message["type"] == "RECORD":
                record = message["record"]
                writer.writerow(
                    [
                        json.dumps(record[c]) if isinstance(record[c], (dict, list)) else record[c]
                        for c in columns
                    ]
                )
    ddl = (
        f"DROP TABLE IF EXISTS {schema}.psql_calls; CREATE TABLE {schema}.psql_calls ("
        "id text PRIMARY KEY, account_id text, company_id text, answered boolean, "
        "direction text, duration bigint, start_time timestamptz, created_at timestamptz, "
        "customer_phone_number text, customer_name text, customer_city text, "
        "tracking_phone_number text, source text, lead_status text, value numeric, "
        "recording_duration bigint, tags jsonb, tracker jsonb, note text, first_call boolean)"
    )
    subprocess.run(["psql", url, "-qc", f"CREATE SCHEMA IF NOT EXISTS {schema}; {ddl}"], check=True)
    started = time.perf_counter()
    subprocess.run(
        ["psql", url, "-qc", f"\\copy {schema}.psql_calls FROM '{csv_path}' WITH (FORMAT csv)"],
        check=True,
    )
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--records", type=int, default=200_000)
    parser.add_argument("--url", default=os.environ.get("WAREHOUSE_TEST_URL"))
    args = parser.parse_args()
    url = args.url or warehouse.start(ROOT / ".warehouse" / "bench-pgdata", stop_at_exit=True)
    schema = "benchmark"
    subprocess.run(["psql", url, "-qc", f"DROP SCHEMA IF EXISTS {schema} CASCADE"], check=True)
    folder = Path(tempfile.mkdtemp(prefix="wh-bench-"))
    try:
        config = folder / "config.json"
        config.write_text(
            json.dumps({**warehouse.target_config(url), "default_target_schema": schema})
        )
        first, second = folder / "first.jsonl", folder / "second.jsonl"
        write_stream(first, args.records, generation=1)
        write_stream(second, args.records, generation=2)
        insert_s, insert_mb = run_target(config, first)
        update_s, update_mb = run_target(config, second)
        copy_s = psql_copy(url, first, folder / "calls.csv", schema)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    n = args.records
    print(f"records: {n}   machine: {os.cpu_count()} cores")
    print(f"{'run':<38}{'seconds':>9}{'records/s':>12}{'peak MB':>9}")
    print(
        f"{'target-warehouse first load (inserts)':<38}{insert_s:>9.2f}{n / insert_s:>12,.0f}{insert_mb:>9}"
    )
    print(
        f"{'target-warehouse second load (updates)':<38}{update_s:>9.2f}{n / update_s:>12,.0f}{update_mb:>9}"
    )
    copy_label = "psql \\copy (same rows, indexed table)"
    print(f"{copy_label:<38}{copy_s:>9.2f}{n / copy_s:>12,.0f}{'-':>9}")
    print(f"updates / inserts time: {update_s / insert_s:.2f}x")
    print(f"target-warehouse / psql \\copy time: {insert_s / copy_s:.1f}x")
    print(
        f"vs MeltanoLabs target-postgres (41.7 s measured for 200k): {41.7 * n / 200_000 / insert_s:.1f}x faster"
    )


if __name__ == "__main__":
    main()
