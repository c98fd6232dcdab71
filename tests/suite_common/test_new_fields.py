"""suite_common.new_fields: a field CallRail or Arrivy adds lands in `_sdc_extra` (jsonb),
exactly as sent, and is named once per run; `keep_new_fields: false` leaves it out. The
taps run against their stand-ins, piped into target-warehouse on the embedded Postgres."""

from __future__ import annotations

import decimal

import requests

from tests.support.pipelines import arrivy_pipeline, callrail_pipeline
from tests.support.singer_run import run_pipeline


def add_field(server, path: str, field: str, value) -> None:
    """From now on the API sends `field` on every record of `path`."""
    fault = {"kind": "new_field", "path": path, "field": field, "value": value, "times": 10**6}
    requests.post(f"{server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)


def extras(db, schema: str, table: str) -> list:
    with db.cursor() as cursor:
        cursor.execute(f'SELECT _sdc_extra FROM "{schema}"."{table}"')
        return [row[0] for row in cursor.fetchall()]


def named(output: str, stream: str, field: str) -> list[str]:
    return [line for line in output.splitlines() if f"sends {stream}.{field}," in line]


def test_a_field_callrail_adds_to_calls_lands_exact_and_is_named_once(
    callrail_server, target_config, db, target_schema
):
    add_field(callrail_server, "/calls", "intent_score", {"score": 0.875, "label": "warm"})
    tap_config = callrail_pipeline(callrail_server).tap_config
    run = run_pipeline("tap-callrail", tap_config, target_config)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-2000:]
    found = extras(db, target_schema, "calls")
    assert found and all(
        extra == {"intent_score": {"score": decimal.Decimal("0.875"), "label": "warm"}}
        or extra == {"intent_score": {"score": 0.875, "label": "warm"}}
        for extra in found
    )
    (line,) = named(run.output, "calls", "intent_score")
    assert "kept in _sdc_extra" in line
    assert extras(db, target_schema, "users") and set(extras(db, target_schema, "users")) == {None}


def test_a_field_arrivy_adds_to_tasks_lands_and_can_be_turned_off(
    arrivy_server, target_config, db, target_schema
):
    add_field(arrivy_server, "/api/tasks", "crew_rating", 4.5)
    tap_config = arrivy_pipeline(arrivy_server).tap_config
    run = run_pipeline("tap-arrivy", tap_config, target_config)
    assert (run.tap_returncode, run.target_returncode) == (0, 0), run.output[-2000:]
    found = extras(db, target_schema, "tasks")
    assert found and all(float(extra["crew_rating"]) == 4.5 for extra in found)
    assert len(named(run.output, "tasks", "crew_rating")) == 1

    off = {**target_config, "default_target_schema": f"{target_schema}_off"}
    try:
        quiet = run_pipeline("tap-arrivy", {**tap_config, "keep_new_fields": False}, off)
        assert (quiet.tap_returncode, quiet.target_returncode) == (0, 0), quiet.output[-2000:]
        with db.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM information_schema.columns WHERE table_schema = %s "
                "AND column_name = '_sdc_extra'",
                (off["default_target_schema"],),
            )
            assert cursor.fetchone()[0] == 0
        (line,) = named(quiet.output, "tasks", "crew_rating")
        assert "left out (keep_new_fields: false)" in line
    finally:
        with db.cursor() as cursor:
            cursor.execute(f'DROP SCHEMA IF EXISTS "{off["default_target_schema"]}" CASCADE')
        db.commit()
