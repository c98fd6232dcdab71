"""`warehouse-history`: read the sync history, and turn it into Meltano state.

    warehouse-history show [--source arrivy] [--stream tasks] [--status failed] [--last 20]
                           [--since 2026-12-01T00:00:00Z]
    warehouse-history to-state --source callrail [--table public.sync_history]
    warehouse-history run [--source callrail] -- meltano run callrail

The warehouse is the target's: `--config target.json`, else the `TARGET_WAREHOUSE_*`
variables Meltano sets for the loader's settings (`TARGET_WAREHOUSE_SQLALCHEMY_URL`, or
`TARGET_WAREHOUSE_HOST`, `_PORT`, `_USER`, `_PASSWORD`, `_DATABASE`, `_SSLMODE`).

`run` runs a pipeline (from cron) so that its failure is recorded: see pipeline_run.py.

`show` prints, per stream and run, what a reconciliation pass measured: the rows the source
listed in its scope (`at source`), the rows live in the warehouse there before it (`was
live`), those it retired, and `drift`: the rows it had to write although no delta had
brought them (blank for runs that were not a pass).

`to-state` prints `{"singer_state": {"bookmarks": …}}` for `meltano state set`, from the
last successful run of each stream of a source: the bookmark it recorded, or, in a table
without bookmarks (the old Django sync's SyncHistory has the same columns otherwise), the
start of that run, so the first run after a migration reads a delta that overlaps the old
sync's last one instead of everything.
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import sys
import typing as t

import psycopg2
import psycopg2.extras
from psycopg2 import sql
from suite_common.cli import fail

from target_warehouse.connection import connect
from target_warehouse.errors import WarehouseError, postgres_reason
from target_warehouse.pipeline_run import run_recorded
from target_warehouse.settings import DEFAULTS

SETTINGS = ("host", "port", "user", "password", "database", "sslmode", "sqlalchemy_url")
SHOWN = (
    ("start_time", "started (UTC)", 19),
    ("crm_source", "source", 12),
    ("sync_type", "stream", 24),
    ("status", "status", 8),
    ("records_processed", "processed", 10),
    ("records_created", "created", 9),
    ("records_updated", "updated", 9),
    ("records_unchanged", "unchanged", 9),
    ("records_failed", "failed", 7),
    ("records_deleted", "deleted", 8),
    ("reconcile_source_rows", "at source", 9),
    ("reconcile_live_before", "was live", 9),
    ("reconcile_retired", "retired", 8),
    ("reconcile_drift", "drift", 7),
    ("seconds", "seconds", 8),
    ("error_message", "error", 60),
)


def warehouse_settings(config_path: str | None) -> dict[str, t.Any]:
    """The target's settings, with their declared defaults: a config file, else Meltano's
    TARGET_WAREHOUSE_* variables."""
    if config_path:
        with open(config_path, encoding="utf-8") as file:
            return {**DEFAULTS, **json.load(file)}
    found = {name: os.environ.get(f"TARGET_WAREHOUSE_{name.upper()}") for name in SETTINGS}
    found["history_schema"] = os.environ.get("TARGET_WAREHOUSE_HISTORY_SCHEMA")
    return {**DEFAULTS, **{name: value for name, value in found.items() if value}}


def history_table(settings: t.Mapping[str, t.Any], table: str | None) -> sql.Identifier:
    """`--table schema.table` (public by default), else the target's sync history."""
    if table:
        schema, _, name = table.rpartition(".")
        return sql.Identifier(schema or "public", name)
    return sql.Identifier(str(settings["history_schema"]), "sync_history")


def columns(cursor: t.Any, table: sql.Identifier) -> set[str]:
    """The history table's columns: a legacy table has fewer."""
    schema, name = table.strings
    cursor.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = %s",
        (schema, name),
    )
    return {row["column_name"] for row in cursor.fetchall()}


def show(cursor: t.Any, table: sql.Identifier, args: argparse.Namespace) -> str:
    """Recent runs, newest first, as a fixed-width table."""
    conditions, values = [], []
    for column, value in (("crm_source", args.source), ("sync_type", args.stream)):
        if value:
            conditions.append(f"{column} = %s")
            values.append(value)
    if args.status:
        conditions.append("status = %s")
        values.append(args.status)
    if args.since:
        conditions.append("start_time >= %s")
        values.append(args.since)
    where = f"WHERE {' AND '.join(conditions)}" if conditions else ""  # fixed column names
    # Unchanged records are counted in performance_metrics: the table keeps the columns of
    # the old sync's SyncHistory, which a legacy table may lack.
    unchanged = (
        "performance_metrics->>'records_unchanged'"
        if "performance_metrics" in columns(cursor, table)
        else "NULL"
    )
    query = sql.SQL(
        "SELECT *, extract(epoch FROM end_time - start_time) AS seconds, "
        "{unchanged} AS records_unchanged FROM {table} "
        "{where} ORDER BY start_time DESC, sync_type LIMIT %s"
    ).format(unchanged=sql.SQL(unchanged), table=table, where=sql.SQL(where))
    cursor.execute(query, [*values, args.last])
    lines = [" ".join(f"{title:<{width}}" for _, title, width in SHOWN).rstrip()]
    for row in cursor.fetchall():
        cells = []
        for column, _, width in SHOWN:
            value = row.get(column)
            if isinstance(value, datetime.datetime):
                value = value.astimezone(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M:%S")
            elif column == "seconds" and value is not None:
                value = f"{float(value):.1f}"
            text = "" if value is None else " ".join(str(value).split())
            cells.append(f"{text[:width]:<{width}}")
        lines.append(" ".join(cells).rstrip())
    return "\n".join(lines)


def to_state(cursor: t.Any, table: sql.Identifier, args: argparse.Namespace) -> dict:
    """Meltano state from the last successful run of each of a source's streams."""
    has_bookmarks = "final_bookmark" in columns(cursor, table)
    bookmark = "final_bookmark" if has_bookmarks else "NULL AS final_bookmark"
    query = sql.SQL(
        "SELECT DISTINCT ON (sync_type) sync_type, start_time, {bookmark} FROM {table} "
        "WHERE crm_source = %s AND status = ANY(%s) "
        "ORDER BY sync_type, end_time DESC NULLS LAST, start_time DESC"
    ).format(bookmark=sql.SQL(bookmark), table=table)
    cursor.execute(query, (args.source, args.success_status))
    renames = dict(item.split("=", 1) for item in args.rename)
    bookmarks = {}
    for row in cursor.fetchall():
        stream = renames.get(row["sync_type"], row["sync_type"])
        bookmarks[stream] = row["final_bookmark"] or {
            "replication_key_value": row["start_time"].astimezone(datetime.timezone.utc).isoformat()
        }
    if not bookmarks:
        raise WarehouseError(
            f"no successful run of source '{args.source}' in {table}",
            fix="check --source (the crm_source column) and --table",
        )
    return {"singer_state": {"bookmarks": bookmarks}}


def since(text: str) -> datetime.datetime:
    """An ISO 8601 time for --since; without a zone it is UTC, as the table shows times."""
    try:
        moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise argparse.ArgumentTypeError(f"not an ISO 8601 time: {text!r}") from exc
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def parser() -> argparse.ArgumentParser:
    main = argparse.ArgumentParser(prog="warehouse-history", description=__doc__.split("\n")[0])
    main.add_argument("--config", help="target-warehouse config JSON (default: environment)")
    main.add_argument("--table", help="history table as schema.table (default: the target's)")
    commands = main.add_subparsers(dest="command", required=True)
    shown = commands.add_parser("show", help="recent runs as a table")
    shown.add_argument("--source")
    shown.add_argument("--stream")
    shown.add_argument("--status", choices=["running", "success", "failed", "partial"])
    shown.add_argument("--last", type=int, default=20, help="rows to show (default 20)")
    shown.add_argument(
        "--since", type=since, help="runs started at or after this ISO time (UTC if no zone)"
    )
    state = commands.add_parser("to-state", help="Meltano state from the last successful runs")
    state.add_argument("--source", required=True, help="crm_source, e.g. callrail")
    state.add_argument(
        "--success-status",
        action="append",
        help="status values that mean success (default: success; repeat for more)",
    )
    state.add_argument(
        "--rename",
        action="append",
        default=[],
        metavar="OLD=NEW",
        help="a legacy sync_type and the stream name it became",
    )
    run = commands.add_parser("run", help="run a pipeline; a failure is recorded in the history")
    run.add_argument("--source", help="crm_source of a row saying the pipeline failed")
    run.add_argument(
        "pipeline", nargs=argparse.REMAINDER, help="-- the command, e.g. meltano run x"
    )
    return main


def main(argv: list[str] | None = None) -> None:
    args = parser().parse_args(argv)
    args.success_status = getattr(args, "success_status", None) or ["success"]
    try:
        settings = warehouse_settings(args.config)
        if args.command == "run":
            command = args.pipeline[1:] if args.pipeline[:1] == ["--"] else args.pipeline
            if not command:
                _fail("run needs a command. Fix: warehouse-history run -- meltano run <job>")
            sys.exit(run_recorded(command, settings, args.source))
        table = history_table(settings, args.table)
        connection = connect(settings)
        with connection.cursor(cursor_factory=psycopg2.extras.RealDictCursor) as cursor:
            if args.command == "show":
                print(show(cursor, table, args))
            else:
                print(json.dumps(to_state(cursor, table, args), default=str))
        connection.close()
    except WarehouseError as exc:
        _fail(str(exc))
    except psycopg2.Error as exc:
        _fail(f"Postgres error: {postgres_reason(exc)}. Fix: check --table and the warehouse.")
    except (OSError, ValueError) as exc:
        _fail(f"{exc}. Fix: check --config and the arguments.")


def _fail(message: str) -> t.NoReturn:
    fail("warehouse-history", message)


if __name__ == "__main__":
    main()
