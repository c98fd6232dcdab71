"""`make demo`: load data into the embedded warehouse and show what landed.

Until the taps exist, the demo loads a generated CallRail-like Singer stream through
target-warehouse twice: a first load, then a changed copy that shows a delta (updates and
inserts counted by Postgres). The warehouse stays up for `make psql`; `make demo-down` stops it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

from sandbox import warehouse
from sandbox.sample_calls import write_stream

SCHEMA = "callrail"


def load(config_path: Path, stream: Path) -> None:
    """Pipe the Singer file into target-warehouse, showing its log."""
    target = Path(sys.executable).with_name("target-warehouse")
    command = [str(target), "--config", str(config_path)]
    with stream.open("rb") as source:
        subprocess.run(command, stdin=source, check=True)


def summary(url: str) -> None:
    """Rows per table in the demo schema, and a few loaded calls."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (SCHEMA,),
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{SCHEMA}"."{table}"')
            print(f"  {SCHEMA}.{table}: {cursor.fetchone()[0]} rows")
        cursor.execute(
            f"SELECT id, start_time, value, tags FROM {SCHEMA}.calls ORDER BY id LIMIT 3"
        )
        for row in cursor.fetchall():
            print("   ", row)


def main() -> None:
    url = warehouse.start()
    print(f"Embedded warehouse: {url}")
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "target.json"
        config = {**warehouse.target_config(url), "default_target_schema": SCHEMA}
        config_path.write_text(json.dumps(config))
        first, second = Path(folder) / "first.jsonl", Path(folder) / "second.jsonl"
        write_stream(first, 500, generation=1)
        write_stream(second, 600, generation=2)
        print("\n== First load: 500 calls ==")
        load(config_path, first)
        summary(url)
        print("\n== Second load: 500 changed calls and 100 new ones (a delta) ==")
        load(config_path, second)
        summary(url)
    print("\nThe warehouse stays up: `make psql` to look around, `make demo-down` to stop it.")


if __name__ == "__main__":
    main()
