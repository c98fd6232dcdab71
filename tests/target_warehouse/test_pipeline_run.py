"""target_warehouse.pipeline_run: a pipeline whose tap fails has its sync-history rows
marked failed with the tap's one-line error (`warehouse-history run -- …`), against the
embedded Postgres; the pipeline is a small script that pipes Singer messages into the real
target and then fails as a tap would."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

import requests
from target_warehouse.pipeline_output import failed_streams, one_line_error
from target_warehouse.pipeline_run import pipeline_source

from tests.support.pipelines import arrivy_pipeline
from tests.target_warehouse.singer import TARGET, lines, record, schema

MELTANO_LINE = (
    "2026-12-02T18:01:33Z [info     ] tap-callrail: error: CallRail refused the API key "
    "(401 on /v3/a.json). Fix: set a valid api_key cmd_type=elb consumer=False "
    "job_name=sandbox:tap-callrail-to-target-warehouse name=tap-callrail producer=True "
    "stdio=stderr string_id=tap-callrail"
)


def test_the_taps_one_line_error_is_found_in_meltanos_log():
    assert one_line_error(
        ["starting", MELTANO_LINE, "Run invocation could not be completed"], 1
    ) == (
        "tap-callrail: error: CallRail refused the API key (401 on /v3/a.json). "
        "Fix: set a valid api_key"
    )
    assert one_line_error(["Traceback"], -9) == "the pipeline was killed (signal 9)"
    assert one_line_error([], 2) == "the pipeline exited with code 2"


def test_a_plugin_that_stopped_without_its_own_error_is_named():
    killed = [
        "2026-12-03T06:52:05.20Z [error    ] meltano      Extractor failed",
        "2026-12-03T06:52:05.20Z [error    ] meltano      Block run completed",
    ]
    assert one_line_error(killed, 1) == (
        "the tap stopped without an error of its own (killed, or out of memory)"
    )
    loader = ["[error    ] meltano      Loader failed"]
    assert one_line_error(loader, 1).startswith("the target stopped without an error")
    assert one_line_error([MELTANO_LINE, *killed], 1).startswith("tap-callrail: error:")


def test_the_source_is_the_commands_first_tap():
    assert pipeline_source(["meltano", "run", "tap-legacy-erp", "target-warehouse"]) == "legacy_erp"
    assert pipeline_source(["meltano", "run", "tap-callrail--reconcile", "x"]) == "callrail"
    assert pipeline_source(["meltano", "run", "all"]) == "unknown"


def pipeline_script(tmp_path, target_config: dict, *, fail: bool, load: bool = True) -> list[str]:
    """A command that loads one stream through the target (as Meltano would, with the run
    ID in the environment), then exits as a failing or succeeding tap does."""
    config = tmp_path / "target.json"
    config.write_text(json.dumps(target_config))
    messages = tmp_path / "messages.jsonl"
    messages.write_text(
        lines([schema("calls", {"id": {"type": "integer"}}), record("calls", {"id": 1})])
    )
    script = textwrap.dedent(
        f"""
        import subprocess, sys
        if {load!r}:
            with open({str(messages)!r}, "rb") as stream:
                subprocess.run({TARGET!r} + ["--config", {str(config)!r}], stdin=stream, check=True)
        if {fail!r}:
            sys.stderr.write("tap-callrail: error: the key was refused. Fix: set api_key\\n")
            sys.exit(1)
        """
    )
    return [sys.executable, "-c", script]


def recorded(tmp_path, target_config, command: list[str], run_id: str):
    config = tmp_path / "target.json"
    env = {**os.environ, "MELTANO_RUN_ID": run_id, "MELTANO_EXTRACTOR_NAME": "tap-callrail"}
    history = str(TARGET[0]).replace("target-warehouse", "warehouse-history")
    return subprocess.run(
        [history, "--config", str(config), "run", "--", *command],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip


def history_rows(db, target_schema: str, run_id: str) -> list[tuple]:
    with db.cursor() as cursor:
        cursor.execute(
            f'SELECT crm_source, sync_type, status, error_message FROM "{target_schema}_history"'
            ".sync_history WHERE meltano_run_id = %s ORDER BY sync_type",
            (run_id,),
        )
        return cursor.fetchall()


def test_a_failed_pipelines_rows_are_marked_failed_with_its_error(
    tmp_path, target_config, db, target_schema
):
    run_id = "11111111-1111-4111-8111-111111111111"
    command = pipeline_script(tmp_path, target_config, fail=True)
    done = recorded(tmp_path, target_config, command, run_id)
    assert done.returncode == 1
    assert f"1 sync-history rows of run {run_id} marked failed" in done.stderr
    assert history_rows(db, target_schema, run_id) == [
        (
            "callrail",
            "calls",
            "failed",
            "tap-callrail: error: the key was refused. Fix: set api_key",
        )
    ]


def test_a_pipeline_that_failed_before_loading_gets_one_row_saying_so(
    tmp_path, target_config, db, target_schema
):
    run_id = "22222222-2222-4222-8222-222222222222"
    command = pipeline_script(tmp_path, target_config, fail=True, load=False)
    assert recorded(tmp_path, target_config, command, run_id).returncode == 1
    (row,) = history_rows(db, target_schema, run_id)
    assert row[:3] == ("unknown", "(pipeline)", "failed")


def test_a_pipeline_that_succeeds_keeps_its_rows(tmp_path, target_config, db, target_schema):
    run_id = "33333333-3333-4333-8333-333333333333"
    command = pipeline_script(tmp_path, target_config, fail=False)
    assert recorded(tmp_path, target_config, command, run_id).returncode == 0
    assert history_rows(db, target_schema, run_id) == [("callrail", "calls", "success", None)]


def test_only_the_streams_the_tap_named_failed_are_marked(
    tmp_path, target_config, db, target_schema, arrivy_server
):
    """tap-arrivy against its stand-in with /statuses answering 404: the tap syncs the
    others and names statuses (suite_common.isolation)."""
    fault = {"kind": "404", "path": "/api/statuses", "times": 100_000}
    requests.post(f"{arrivy_server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(json.dumps(arrivy_pipeline(arrivy_server).tap_config))
    (tmp_path / "target.json").write_text(json.dumps(target_config))
    tap = str(TARGET[0]).replace("target-warehouse", "tap-arrivy")
    pipe = f"{tap} --config {tap_config} | {TARGET[0]} --config {tmp_path / 'target.json'}"
    run_id = "44444444-4444-4444-8444-444444444444"
    done = recorded(tmp_path, target_config, ["bash", "-o", "pipefail", "-c", pipe], run_id)
    assert done.returncode == 1
    rows = {stream: (status, error) for _, stream, status, error in history_rows(
        db, target_schema, run_id
    )}  # fmt: skip
    assert rows.pop("statuses") == ("failed", "404 from Arrivy on /api/statuses")
    assert {"tasks", "customers", "groups"} <= set(rows)
    assert set(rows.values()) == {("success", None)}
    assert failed_streams(done.stderr.splitlines()) == {
        "statuses": "404 from Arrivy on /api/statuses"
    }
