"""`make demo`: the real pipelines against the local stand-ins, into the embedded warehouse.

Starts the sandbox (`python -m sandbox up`), then runs each finished tap piped into
target-warehouse, shows what landed, changes the sources (`mutate`) and runs again from the
saved state, so the second run moves only what changed. The warehouse and the stand-ins stay
up for `make psql`; `make demo-down` stops everything.
"""

from __future__ import annotations

import json
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2

from sandbox import warehouse

BIN = Path(sys.executable).parent
SETTINGS = warehouse.PROJECT_ROOT / ".warehouse" / "sandbox.json"


def tap_configs(settings: dict) -> dict[str, dict]:
    """Each finished tap's settings for the stand-ins."""
    return {
        "callrail": {
            "api_key": "sandbox-callrail-key",
            "api_url": f"{settings['callrail']}/v3",
            "start_date": "2026-01-01T00:00:00Z",
            "requests_per_hour": 100_000,
        },
        "arrivy": {
            "auth_key": "sandbox-arrivy-key",
            "auth_token": "sandbox-arrivy-token",
            "api_url": f"{settings['arrivy']}/api",
            "start_date": "2025-01-01T00:00:00Z",
            "requests_per_minute": 6000,
        },
    }


def run_pipeline(source: str, tap_config: dict, url: str, state: dict | None, folder: Path) -> dict:
    """`tap-<source> | target-warehouse` into schema `source`; returns the last state."""
    tap_path, target_path, state_path = (
        folder / f"{source}-{name}.json" for name in ("tap", "target", "state")
    )
    tap_path.write_text(json.dumps(tap_config))
    target_path.write_text(
        json.dumps({**warehouse.target_config(url), "default_target_schema": source})
    )
    tap = [str(BIN / f"tap-{source}"), "--config", str(tap_path)]
    if state:
        state_path.write_text(json.dumps(state))
        tap += ["--state", str(state_path)]
    extract = subprocess.Popen(tap, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    load = subprocess.run(
        [str(BIN / "target-warehouse"), "--config", str(target_path)],
        stdin=extract.stdout, capture_output=True, text=True, check=False,
    )  # fmt: skip
    extract.wait()
    for line in load.stderr.splitlines():
        if "Summary " in line and " created, " in line:
            print("   ", re.sub(r"^.*\| ", "", line))
        elif "error" in line:
            print("   ", line)
    states = [json.loads(line) for line in load.stdout.splitlines() if line.strip()]
    return states[-1] if states else (state or {})


def show_tables(url: str, schema: str) -> None:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        )
        for (table,) in cursor.fetchall():
            cursor.execute(f'SELECT count(*) FROM "{schema}"."{table}"')
            print(f"    {schema}.{table}: {cursor.fetchone()[0]} rows")


def main() -> None:
    subprocess.run([sys.executable, "-m", "sandbox", "up"], check=True)
    settings = json.loads(SETTINGS.read_text())
    url = str(settings["warehouse_url"])
    states: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as name:
        folder = Path(name)
        for round_name in ("First sync (full)", "Second sync (delta, after `mutate`)"):
            print(f"\n== {round_name} ==")
            for source, config in tap_configs(settings).items():
                print(f"  {source}:")
                states[source] = run_pipeline(source, config, url, states.get(source), folder)
                show_tables(url, source)
            if round_name.startswith("First"):
                subprocess.run([sys.executable, "-m", "sandbox", "mutate"], check=True)
    print("\nThe warehouse and the stand-ins stay up: `make psql`, then `make demo-down`.")


if __name__ == "__main__":
    main()
