"""Sync history, quarantine and dry runs: what the warehouse records of each run."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import tempfile
import time
from pathlib import Path

from target_warehouse.sync_history import ABANDONED

from tests.target_warehouse.singer import TARGET, lines, record, rows, run_target, schema, state

PROPS = {"id": {"type": "integer"}, "amount": {"type": ["null", "number"]}}


def history(db, config) -> list[dict]:
    return rows(db, config["history_schema"], "sync_history")


def rejected(db, config) -> list[dict]:
    return rows(db, config["history_schema"], "rejected_records")


def test_a_successful_run_records_exact_counts_bookmark_and_metrics(db, target_config):
    config = {**target_config, "source_name": "CallRail"}
    first = [
        schema("calls", PROPS),
        record("calls", {"id": 1, "amount": 1}),
        record("calls", {"id": 2, "amount": 2}),
        state({"bookmarks": {"calls": {"replication_key_value": "2026-01-01"}}}),
    ]
    assert run_target(config, first, env={"MELTANO_RUN_ID": "run-77"}).returncode == 0
    second = [
        schema("calls", PROPS),
        record("calls", {"id": 1, "amount": 1}),
        record("calls", {"id": 2, "amount": 20}),
        record("calls", {"id": 3, "amount": 3}),
        state({"bookmarks": {"calls": {"replication_key_value": "2026-02-01"}}}),
    ]
    run = run_target(config, second)
    assert run.returncode == 0, run.stderr
    older, newer = history(db, config)
    assert older["meltano_run_id"] == "run-77" and newer["meltano_run_id"] is None
    assert (older["records_created"], older["records_updated"]) == (2, 0)
    assert newer["crm_source"] == "callrail" and newer["sync_type"] == "calls"
    assert newer["endpoint"] == f"{config['default_target_schema']}.calls"
    assert newer["status"] == "success" and newer["error_message"] is None
    assert (newer["records_processed"], newer["records_created"]) == (3, 1)
    assert (newer["records_updated"], newer["records_failed"]) == (1, 0)
    assert newer["final_bookmark"] == {"replication_key_value": "2026-02-01"}
    assert newer["end_time"] >= newer["start_time"]
    metrics = newer["performance_metrics"]
    assert metrics["success_rate"] == 1.0 and metrics["records_unchanged"] == 1
    assert metrics["duration_seconds"] > 0 and metrics["records_per_second"] > 0
    assert older["run_id"] != newer["run_id"]
    assert "Summary calls: 1 created, 1 updated, 1 unchanged, 0 deleted, 0 failed" in run.stderr


def test_invalid_records_are_quarantined_counted_and_the_stream_is_partial(db, target_config):
    messages = [
        schema("s", PROPS),
        record("s", {"id": 1, "amount": 1}),
        record("s", {"id": 2, "amount": "lots"}),
        '{"type":"RECORD","stream":"s","record":{"id":3,"amount":NaN}}',
        record("s", {"amount": 4}),
        record("s", {"id": 5, "amount": 5.25}),
        state({"bookmarks": {"s": {"replication_key_value": 5}}}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr
    assert [r["id"] for r in rows(db, target_config["default_target_schema"], "s")] == [1, 5]
    kept = rejected(db, target_config)
    assert [r["record"] for r in kept] == [
        {"id": 2, "amount": "lots"},
        {"id": 3, "amount": "nan"},
        {"amount": 4},
    ]
    assert [r["input_line"] for r in kept] == [3, 4, 5]
    assert "field 'amount'" in kept[0]["error"] and "key property 'id'" in kept[2]["error"]
    (row,) = history(db, target_config)
    assert {r["run_id"] for r in kept} == {row["run_id"]}
    assert row["status"] == "partial"
    assert (row["records_processed"], row["records_failed"], row["records_created"]) == (5, 3, 2)
    assert row["performance_metrics"]["success_rate"] == 0.4
    assert run.states == [{"bookmarks": {"s": {"replication_key_value": 5}}}]


def test_an_error_mid_stream_fails_the_row_with_its_message(db, target_config):
    messages = [
        schema("s", PROPS),
        record("s", {"id": 1, "amount": 1}),
        state({"bookmarks": {"s": {"replication_key_value": 1}}}),
        "{this is not json",
        record("s", {"id": 2, "amount": 2}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 1
    (row,) = history(db, target_config)
    assert row["status"] == "failed"
    assert "input line 4: not valid JSON" in row["error_message"]
    assert row["records_created"] == 1 and row["final_bookmark"] == {"replication_key_value": 1}


def test_a_killed_run_stays_running_until_the_next_run_marks_it_failed(db, target_config):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(target_config))
        target = subprocess.Popen(
            [*TARGET, "--config", str(path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        target.stdin.write(lines([schema("s", PROPS), record("s", {"id": 1})]).encode())
        target.stdin.flush()
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and not _table_has_rows(db, target_config):
            time.sleep(0.1)
        os.kill(target.pid, signal.SIGKILL)
        target.wait()
    (killed,) = history(db, target_config)
    assert killed["status"] == "running" and killed["end_time"] is None
    run = run_target(target_config, [schema("s", PROPS), record("s", {"id": 2})])
    assert run.returncode == 0
    killed, new = history(db, target_config)
    assert killed["status"] == "failed" and killed["error_message"] == ABANDONED
    assert new["status"] == "success"


def _table_has_rows(db, config) -> bool:
    with db.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{config["history_schema"]}".sync_history',))
        if cursor.fetchone()[0] is None:
            return False
        cursor.execute(f'SELECT count(*) FROM "{config["history_schema"]}".sync_history')
        return cursor.fetchone()[0] > 0


def test_secrets_never_reach_the_history(db, target_config):
    config = {**target_config, "password": "canary-pg-4471"}
    env = {
        "MELTANO_EXTRACTOR_NAME": "tap-legacy-erp",
        "MELTANO_EXTRACT_PASSWORD": "canary-erp-5512",
        "MELTANO_EXTRACT_API_KEY": "canary-key-6623",
        "MELTANO_EXTRACT_BASE_URL": "http://erp.example",
    }
    # The test server trusts local connections, so the password is not checked.
    run = run_target(config, [schema("s", PROPS), record("s", {"id": 1})], env=env)
    assert run.returncode == 0, run.stderr
    (row,) = history(db, config)
    assert row["crm_source"] == "legacy_erp"
    stored = json.dumps(row["configuration"])
    assert "canary" not in stored and "canary" not in run.stderr
    assert row["configuration"]["target"]["password"] == "***"
    assert row["configuration"]["extractor"]["api_key"] == "***"
    assert row["configuration"]["extractor"]["base_url"] == "http://erp.example"


def _snapshot(db) -> list[tuple]:
    """Every user table with its row count and a checksum of its rows."""
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema NOT IN ('pg_catalog', 'information_schema') ORDER BY 1, 2"
        )
        tables = cursor.fetchall()
        found = []
        for schema_name, table in tables:
            cursor.execute(
                f"SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                f'FROM "{schema_name}"."{table}" t'
            )
            found.append((schema_name, table, *cursor.fetchone()))
        return found


def test_a_dry_run_reports_what_it_would_do_and_writes_nothing(db, target_config):
    loaded = [schema("s", PROPS), record("s", {"id": 1, "amount": 1}), record("s", {"id": 2})]
    assert run_target(target_config, loaded).returncode == 0
    before = _snapshot(db)
    props = {**PROPS, "note": {"type": ["null", "string"]}}
    messages = [
        schema("s", props),
        record("s", {"id": 1, "amount": 1}),
        record("s", {"id": 2, "amount": 2, "note": "x"}),
        record("s", {"id": 3}),
        record("s", {"id": 4, "amount": "bad"}),
        schema("fresh", PROPS),
        record("fresh", {"id": 1}),
        state({"bookmarks": {"s": {"replication_key_value": 4}}}),
    ]
    run = run_target({**target_config, "dry_run": True}, messages)
    assert run.returncode == 0, run.stderr
    assert _snapshot(db) == before, "a dry run writes nothing"
    assert run.states == [], "no state: nothing was written, so no bookmark may move"
    assert "Summary (dry run) s: 1 would be created, 1 would be updated, 1 unchanged" in run.stderr
    assert "1 failed," in run.stderr
    assert "Summary (dry run) fresh: 1 would be created" in run.stderr
    assert "Dry run s: would run ALTER TABLE" in run.stderr and '"note"' in run.stderr
    assert "Dry run fresh: would run CREATE TABLE" in run.stderr


def test_an_inheriting_plugin_counts_as_its_source(db, target_config):
    """`tap-callrail--reconcile` is CallRail's reconciliation pass: crm_source `callrail`."""
    env = {"MELTANO_EXTRACTOR_NAME": "tap-callrail--reconcile"}
    run = run_target(target_config, [schema("s", PROPS), record("s", {"id": 1})], env=env)
    assert run.returncode == 0, run.stderr
    (row,) = history(db, target_config)
    assert row["crm_source"] == "callrail"


def test_a_quarantined_record_keeps_a_nul_and_a_literal_backslash_u0000_apart(db, target_config):
    """jsonb holds no NUL: one is kept as the text `\\u0000`. A record that really holds
    that text (a backslash, then u0000) keeps it too, and is not read as a NUL escape."""
    messages = [
        schema("s", {"id": {"type": "integer"}, "meta": {"type": ["null", "object"]}}),
        record("s", {"id": 1, "meta": "\\u0000"}),
        record("s", {"id": 2, "meta": "a\x00b", "\x00key": 1}),
    ]
    run = run_target(target_config, messages)
    assert run.returncode == 0, run.stderr[-2000:]
    kept = {
        r["record"]["id"]: r["record"]
        for r in rows(db, target_config["history_schema"], "rejected_records", order_by="1")
    }
    assert kept[1]["meta"] == "\\u0000"
    assert kept[2]["meta"] == "a\\u0000b"
    assert kept[2]["\\u0000key"] == 1
