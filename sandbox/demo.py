"""`make demo`: the four pipelines through Meltano, against the local stand-ins, into the
embedded warehouse.

Starts the sandbox (`python -m sandbox up`, which writes the stand-ins' addresses to .env for
Meltano's `sandbox` environment), installs the plugins (`meltano install`), runs
`meltano --environment sandbox run tap-<source> target-warehouse` for each source with its
progress, shows the rows per table and the sync history, changes every source
(`python -m sandbox mutate`) and runs again: Meltano's state makes the second run a delta
that moves only what changed. Then `python -m sandbox drift` deletes Genius and ERP rows and
changes Genius rows behind their stamps, and the four reconciliation jobs run: CallRail's and
Arrivy's last 90 days and small lists, every Genius and ERP table whole. The late changes a
delta cannot see land, what the sources deleted is marked in `_sdc_deleted_at`, and the
sync history shows what each pass repaired. Last, `meltano run transform` builds and tests
the dbt project (transform/), and the funnel it answers is printed: calls → matched
prospects → appointments → sold → tasks, per CallRail source. The warehouse and the
stand-ins stay up for `make psql`; `make demo-down` stops everything.
"""

from __future__ import annotations

import datetime
import json
import os
import re
import subprocess
import sys
import tempfile
from pathlib import Path

import psycopg2
from psycopg2 import sql

from sandbox import warehouse

ROOT = warehouse.PROJECT_ROOT
BIN = Path(sys.executable).parent
SETTINGS = ROOT / ".warehouse" / "sandbox.json"
SOURCES = {
    "arrivy": "arrivy",
    "callrail": "callrail",
    "genius": "genius",
    "legacy-erp": "legacy_erp",
}
SHOWN = re.compile(
    r"Summary|Reconciled|error|Error|4D session|earlier run|zero dates|NaN/Infinity"
    r"|Done\. PASS=|Finished running"
)
ANSI = re.compile(r"\x1b\[[0-9;]*m")
"""dbt colours its log lines."""
BUILT_SCHEMAS = ("staging", "analytics")
"""Where the dbt project builds (transform/dbt_project.yml)."""
FUNNEL_STAGES = (
    ("calls", "count(*)"),
    ("matched prospects", "count(prospect_id)"),
    ("appointments", "count(appointment_id)"),
    ("sold", "count(*) FILTER (WHERE is_sold)"),
    ("tasks", "count(arrivy_task_id)"),
)
"""The funnel's stages, each counted over analytics.lead_funnel's one row per call."""
RECONCILED = ("callrail-reconcile", "arrivy-reconcile", "genius-reconcile", "legacy-erp-reconcile")


def meltano_command() -> list[str]:
    """Meltano from its own venv (the Makefile's), else from PATH."""
    executable = os.environ.get("MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")
    return [executable if Path(executable).exists() else "meltano"]


def meltano_env() -> dict[str, str]:
    return {
        **os.environ,
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    }


def run_pipeline(source: str, *flags: str) -> int:
    """`meltano run tap-<source> target-warehouse`, printing its progress as it comes."""
    return run_meltano(*flags, f"tap-{source}", "target-warehouse")


def run_meltano(*arguments: str) -> int:
    """`meltano run <arguments>` in the sandbox environment, showing the lines that matter."""
    command = [*meltano_command(), "run", *arguments]
    print(f"  $ meltano --environment sandbox run {' '.join(arguments)}", flush=True)
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=meltano_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if SHOWN.search(line):
            message = re.sub(r"^\S+\s+\[\w+\s*\]\s+", "", ANSI.sub("", line).strip())
            message = re.sub(r"^(dbt-postgres)\s+\d\d:\d\d:\d\d\s+", r"\1 ", message)
            print(f"    {message}", flush=True)
    return process.wait()


def show_tables(url: str, schema: str) -> None:
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        cursor.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s "
            "ORDER BY table_name",
            (schema,),
        )
        counts = []
        for (table,) in cursor.fetchall():
            relation = sql.Identifier(schema, table)
            cursor.execute(sql.SQL("SELECT count(*) FROM {}").format(relation))
            counts.append(f"{table} {cursor.fetchone()[0]}")
        print(f"    {schema}: " + ", ".join(counts))


def show_history(url: str, since: datetime.datetime) -> None:
    """`warehouse-history show` for every run of a round: each stream of all four sources."""
    with tempfile.TemporaryDirectory() as folder:
        config = Path(folder) / "target.json"
        config.write_text(json.dumps(warehouse.target_config(url)))
        command = [str(BIN / "warehouse-history"), "--config", str(config), "show"]
        command += ["--since", since.isoformat(), "--last", "1000"]
        subprocess.run(command, check=False)


def funnel_summary(url: str) -> list[tuple[str, dict[str, int]]]:
    """Per CallRail source (most sales first), then all sources: the count at each stage."""
    counts = ", ".join(expression for _, expression in FUNNEL_STAGES)
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        query = sql.SQL(
            "SELECT coalesce(source, '(none)'), {counts} FROM analytics.lead_funnel "
            "GROUP BY 1 ORDER BY 5 DESC, 2 DESC, 1"
        ).format(counts=sql.SQL(counts))
        cursor.execute(query)
        rows = cursor.fetchall()
    names = [name for name, _ in FUNNEL_STAGES]
    per_source = [(source, dict(zip(names, row, strict=True))) for source, *row in rows]
    total = {name: sum(counts[name] for _, counts in per_source) for name in names}
    return [*per_source, ("all sources", total)]


def show_funnel(url: str) -> None:
    print("\n  Which marketing produced jobs (analytics.lead_funnel):")
    widths = [len(name) + 3 for name, _ in FUNNEL_STAGES]
    header = "".join(f"{name:>{w}}" for (name, _), w in zip(FUNNEL_STAGES, widths, strict=True))
    print(f"    {'CallRail source':<24}{header}")
    for source, counts in funnel_summary(url):
        cells = "".join(f"{n:>{w}}" for n, w in zip(counts.values(), widths, strict=True))
        print(f"    {source[:24]:<24}{cells}")


def empty_warehouse(url: str) -> None:
    """The demo starts from an empty warehouse, whatever an earlier demo left there."""
    with psycopg2.connect(url) as connection, connection.cursor() as cursor:
        for schema in [*SOURCES.values(), "orchestration", *BUILT_SCHEMAS]:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def main() -> int:
    subprocess.run([sys.executable, "-m", "sandbox", "up"], check=True, cwd=ROOT)
    url = str(json.loads(SETTINGS.read_text())["warehouse_url"])
    empty_warehouse(url)
    print("\n$ meltano install", flush=True)
    subprocess.run([*meltano_command(), "install"], check=True, cwd=ROOT, env=meltano_env())
    failures = 0
    for round_name in ("First sync (everything)", "Second sync (a delta, after `mutate`)"):
        print(f"\n== {round_name} ==", flush=True)
        # The first round reads everything even when an earlier demo left state behind.
        flags = ["--full-refresh"] if round_name.startswith("First") else []
        started = datetime.datetime.now(datetime.timezone.utc)
        for source, schema in SOURCES.items():
            failures += run_pipeline(source, *flags) != 0
            show_tables(url, schema)
        print("\n  Sync history (newest first):")
        show_history(url, since=started)
        if round_name.startswith("First"):
            print()
            subprocess.run([sys.executable, "-m", "sandbox", "mutate"], check=True, cwd=ROOT)
    print("\n== Reconciliation (deletions and changes a delta cannot see) ==", flush=True)
    subprocess.run([sys.executable, "-m", "sandbox", "drift"], check=True, cwd=ROOT)
    started = datetime.datetime.now(datetime.timezone.utc)
    for job in RECONCILED:
        failures += run_meltano(job) != 0
    print("\n  What each pass repaired (at source, was live, retired, drift):")
    show_history(url, since=started)
    print("\n== The funnel (dbt build: every model, then its tests) ==", flush=True)
    built = run_meltano("transform") == 0
    failures += not built
    if built:
        show_funnel(url)
    print("\nThe warehouse and the stand-ins stay up: `make psql`, then `make demo-down`.")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
