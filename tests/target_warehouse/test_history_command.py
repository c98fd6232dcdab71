"""`warehouse-history`: the history as a table, and Meltano state built from it (accepted by
`meltano state set`, honoured by a tap), from this table or a legacy one."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

import requests

from sandbox.legacy_erp import parse_erp_date
from tests.support.singer_run import meltano_executable, run_pipeline, run_tap
from tests.target_warehouse.singer import record, run_target, schema, state

HISTORY = str(Path(sys.executable).with_name("warehouse-history"))
PROPS = {"id": {"type": "integer"}}


def history_command(config: dict, *args: str) -> subprocess.CompletedProcess:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "target.json"
        path.write_text(json.dumps(config))
        return subprocess.run(
            [HISTORY, "--config", str(path), *args], capture_output=True, text=True, timeout=60
        )


def pipeline(tap_config: dict, target_config: dict, env: dict) -> None:
    """tap-legacy-erp | target-warehouse, as `meltano run` pipes them."""
    run = run_pipeline("tap-legacy-erp", tap_config, target_config, env=env)
    assert run.tap_returncode == 0 and run.target_returncode == 0, run.output[-2000:]


def meltano_state_round_trip(state_json: str) -> dict:
    """`meltano state set` the JSON in a throwaway project, then `meltano state get` it."""
    with tempfile.TemporaryDirectory() as folder:
        Path(folder, "meltano.yml").write_text(
            "version: 1\nproject_id: history-test\ndefault_environment: dev\n"
            "environments:\n  - name: dev\n"
        )
        env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
        state_id = "dev:tap-legacy-erp-to-target-warehouse"
        for command in (["set", "--force", state_id, state_json], ["get", state_id]):
            done = subprocess.run(
                [meltano_executable(), "state", *command],
                cwd=folder,
                env=env,
                capture_output=True,
                text=True,
                timeout=120,
            )
            assert done.returncode == 0, done.stderr[-2000:]
        return json.loads(done.stdout)


def test_to_state_is_accepted_by_meltano_and_honoured_by_the_tap(db, target_config, erp_server):
    tap_config = {"base_url": erp_server.url, "backoff_base_seconds": 0.02}
    pipeline(tap_config, target_config, {"MELTANO_EXTRACTOR_NAME": "tap-legacy-erp"})
    made = history_command(target_config, "to-state", "--source", "legacy_erp")
    assert made.returncode == 0, made.stderr
    state_json = made.stdout.strip()
    bookmarks = json.loads(state_json)["singer_state"]["bookmarks"]
    assert "replication_key_value" in bookmarks["kunden"]
    assert meltano_state_round_trip(state_json) == json.loads(state_json)

    requests.post(f"{erp_server.url}/_sandbox/mutate", json={"updates": 3, "creates": 1})
    delta = run_tap("tap-legacy-erp", tap_config, state=json.loads(state_json)["singer_state"])
    assert delta.returncode == 0, delta.stderr[-2000:]
    since = bookmarks["kunden"]["replication_key_value"]
    expected = {
        r["__KEY"]
        for r in erp_server.tables["Kunden"].live_records()
        if parse_erp_date(r["last_modified"]).isoformat() >= since
    }
    assert {r["__KEY"] for r in delta.records("kunden")} == expected
    assert 4 <= len(expected) < 150, "a delta, not everything"


def test_to_state_from_a_legacy_table_starts_at_the_last_successful_run(db, target_config):
    schema_name = target_config["history_schema"]
    with db.cursor() as cursor:
        cursor.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema_name}"')
        cursor.execute(
            f'CREATE TABLE "{schema_name}".legacy_sync (id serial, crm_source text, '
            "sync_type text, start_time timestamptz, end_time timestamptz, status text)"
        )
        cursor.execute(
            f'INSERT INTO "{schema_name}".legacy_sync (crm_source, sync_type, start_time, '
            "end_time, status) VALUES "
            "('genius', 'appointments', '2026-11-01 02:00+00', '2026-11-01 02:10+00', 'success'),"
            "('genius', 'appointments', '2026-11-02 02:00+00', '2026-11-02 02:09+00', 'failed'),"
            "('genius', 'Prospect', '2026-11-02 03:00+00', '2026-11-02 03:01+00', 'success'),"
            "('callrail', 'calls', '2026-11-03 02:00+00', '2026-11-03 02:01+00', 'success')"
        )
    made = history_command(
        target_config,
        "--table",
        f"{schema_name}.legacy_sync",
        "to-state",
        "--source",
        "genius",
        "--rename",
        "Prospect=prospects",
    )
    assert made.returncode == 0, made.stderr
    assert json.loads(made.stdout) == {
        "singer_state": {
            "bookmarks": {
                "appointments": {"replication_key_value": "2026-11-01T02:00:00+00:00"},
                "prospects": {"replication_key_value": "2026-11-02T03:00:00+00:00"},
            }
        }
    }
    missing = history_command(
        target_config, "--table", f"{schema_name}.legacy_sync", "to-state", "--source", "erp"
    )
    assert missing.returncode == 1
    assert missing.stderr.startswith("warehouse-history: error: no successful run of source")


def test_show_lists_recent_runs_with_filters(db, target_config):
    config = {**target_config, "source_name": "arrivy"}
    good = [schema("tasks", PROPS), record("tasks", {"id": 1}), state({"p": 1})]
    assert run_target(config, good).returncode == 0
    assert run_target(config, [schema("tasks", PROPS), "{broken"]).returncode == 1
    shown = history_command(config, "show", "--source", "arrivy")
    assert shown.returncode == 0, shown.stderr
    header, failed, success = shown.stdout.splitlines()
    assert header.split()[:4] == ["started", "(UTC)", "source", "stream"]
    assert failed.split()[2:5] == ["arrivy", "tasks", "failed"] and "not valid JSON" in failed
    assert success.split()[2:10] == ["arrivy", "tasks", "success", "1", "1", "0", "0", "0"]
    only_failed = history_command(config, "show", "--status", "failed", "--last", "5")
    assert len(only_failed.stdout.splitlines()) == 2


def test_show_counts_unchanged_records_since_a_time(db, target_config):
    config = {**target_config, "source_name": "arrivy"}
    sent = [schema("tasks", PROPS), record("tasks", {"id": 1}), state({"p": 1})]
    assert run_target(config, sent).returncode == 0
    with db.cursor() as cursor:
        cursor.execute("SELECT now()")
        [(between,)] = cursor.fetchall()
    assert run_target(config, sent).returncode == 0
    shown = history_command(config, "show", "--since", between.isoformat())
    assert shown.returncode == 0, shown.stderr
    header, second = shown.stdout.splitlines()
    assert header.split()[6:10] == ["created", "updated", "unchanged", "failed"]
    assert second.split()[2:10] == ["arrivy", "tasks", "success", "1", "0", "0", "1", "0"]
    wrong = history_command(config, "show", "--since", "yesterday")
    assert wrong.returncode == 2 and "not an ISO 8601 time: 'yesterday'" in wrong.stderr


def test_show_prints_what_a_reconciliation_pass_repaired(db, target_config):
    """Delta: two rows. Pass: the source lists row 1 changed and row 3, not row 2."""
    config = {**target_config, "source_name": "genius"}
    props = {"id": {"type": "integer"}, "v": {"type": ["null", "string"]}}
    delta = [schema("t", props), record("t", {"id": 1, "v": "a"}), record("t", {"id": 2})]
    assert run_target(config, delta).returncode == 0
    reconcile = {"type": "RECONCILE", "stream": "t"}
    repaired = [
        schema("t", props),
        {**reconcile, "phase": "begin"},
        record("t", {"id": 1, "v": "fixed"}),
        record("t", {"id": 3}),
        {**reconcile, "phase": "end", "whole_table": True},
    ]
    assert run_target(config, repaired).returncode == 0
    shown = history_command(config, "show", "--source", "genius")
    assert shown.returncode == 0, shown.stderr
    header, passed, plain = shown.stdout.splitlines()
    assert " ".join(header.split()[10:18]) == "deleted at source was live retired drift seconds"
    #           processed, created, updated, unchanged, failed, deleted, at source, was live,
    #           retired, drift
    assert passed.split()[5:15] == ["2", "1", "1", "0", "0", "1", "2", "2", "1", "2"]
    assert plain.split()[5:11] == ["2", "2", "0", "0", "0", "0"]
    assert len(plain.split()) == 12  # no reconciliation figures, then seconds
