"""suite_common.isolation: a stream that fails persistently does not cost the others their
records or state, in every tap, against the stand-ins and a real MariaDB (the taps run as
their users run them: the console script, a config file, a catalog)."""

from __future__ import annotations

import collections
import datetime

import pymysql
import pytest
import requests

from tests.support.pipelines import arrivy_pipeline
from tests.support.singer_run import run_tap

STATE_STREAMS = ("customers", "tasks")
"""Arrivy streams that keep a bookmark."""


@pytest.fixture
def arrivy_config(arrivy_server):
    """The pipelines' settings, with two tries per request so that failures come fast."""
    return {**arrivy_pipeline(arrivy_server).tap_config, "max_retries": 2}


def fail_always(server, path: str, status: int) -> None:
    """Every request to `path` answers `status`, however often it is asked again."""
    fault = {"kind": str(status), "path": path, "times": 100_000}
    requests.post(f"{server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)


def counts(run) -> collections.Counter:
    return collections.Counter(m["stream"] for m in run.messages if m["type"] == "RECORD")


def failure_lines(run, tap: str) -> list[str]:
    return [line for line in run.stderr.splitlines() if line.startswith(f"{tap}: stream failed:")]


def test_a_404_list_fails_alone_and_the_others_land_with_their_state(arrivy_server, arrivy_config):
    clean = run_tap("tap-arrivy", arrivy_config)
    assert clean.returncode == 0, clean.stderr[-2000:]
    fail_always(arrivy_server, "/api/statuses", 404)
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 1
    assert counts(clean)["statuses"] > 0
    assert counts(run) == {n: c for n, c in counts(clean).items() if n != "statuses"}
    for stream in STATE_STREAMS:
        assert run.final_state["bookmarks"][stream] == clean.final_state["bookmarks"][stream]
    assert failure_lines(run, "tap-arrivy") == [
        "tap-arrivy: stream failed: statuses: 404 from Arrivy on /api/statuses"
    ]
    (line,) = run.error_lines("tap-arrivy")
    assert line.startswith("tap-arrivy: error: 1 of 7 streams failed, the others were synced")
    assert "statuses (404 from Arrivy on /api/statuses)" in line
    assert "Traceback" not in run.stderr


def test_a_5xx_that_keeps_coming_fails_that_stream_after_its_retries(arrivy_server, arrivy_config):
    fail_always(arrivy_server, "/api/groups", 500)
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 1
    assert "groups" not in counts(run)
    assert counts(run)["tasks"] and counts(run)["customers"]
    asked = [r for r in arrivy_server.requests if r.path.startswith("/api/groups")]
    assert len(asked) == 2, "max_retries tries, then the stream fails"
    (line,) = run.error_lines("tap-arrivy")
    assert "groups (500 from Arrivy on /api/groups" in line
    assert line.endswith("where the source kept failing, try again later")


def test_a_failed_parent_names_its_children_skipped(arrivy_server, arrivy_config):
    fail_always(arrivy_server, "/api/tasks", 404)
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 1
    assert "tasks" not in counts(run) and "task_statuses" not in counts(run)
    assert counts(run)["customers"]
    lines = failure_lines(run, "tap-arrivy")
    assert lines[0].startswith("tap-arrivy: stream failed: tasks: 404 from Arrivy on /api/tasks")
    assert "tap-arrivy: stream failed: task_statuses: skipped: tasks failed" in lines


def test_fail_fast_stops_at_the_first_failure(arrivy_server, arrivy_config):
    fail_always(arrivy_server, "/api/statuses", 404)
    run = run_tap("tap-arrivy", {**arrivy_config, "fail_fast": True})
    assert run.returncode == 1
    assert "tasks" not in counts(run), "fail_fast: nothing after the failed stream"
    (line,) = run.error_lines("tap-arrivy")
    assert "404 from Arrivy on /api/statuses" in line
    assert not failure_lines(run, "tap-arrivy")


def test_a_refused_credential_still_stops_the_run_at_once(arrivy_server, arrivy_config):
    fail_always(arrivy_server, "/api/statuses", 401)
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 1
    assert "tasks" not in counts(run)
    (line,) = run.error_lines("tap-arrivy")
    assert "refused the auth key or token (401 on /api/statuses)" in line


def test_callrail_a_403_list_fails_alone(callrail_server):
    config = {
        "api_key": "sandbox-callrail-key",
        "api_url": f"{callrail_server.url}/v3",
        "start_date": (callrail_server.now - datetime.timedelta(days=30)).isoformat(),
        "backoff_base_seconds": 0.02,
    }
    fail_always(callrail_server, "/tags.json", 403)
    run = run_tap("tap-callrail", config)
    assert run.returncode == 1
    assert "tags" not in counts(run)
    assert counts(run)["calls"] and counts(run)["users"]
    assert run.final_state["bookmarks"]["calls"]
    lines = failure_lines(run, "tap-callrail")
    assert lines and lines[0].startswith("tap-callrail: stream failed: tags: CallRail refused ")
    assert "(403): the API key may lack the permission for it" in lines[0]


def test_erp_a_table_that_is_gone_fails_alone(erp_server):
    config = {"base_url": erp_server.url, "backoff_base_seconds": 0.02, "max_retries": 2}
    fail_always(erp_server, "/rest/Kunden", 404)
    run = run_tap("tap-legacy-erp", config)
    assert run.returncode == 1
    assert "kunden" not in counts(run)
    assert len(run.records("belege")) == len(list(erp_server.tables["Belege"].live_records()))
    assert counts(run)["belege_pos"] and counts(run)["adressen"]
    assert "belege" in run.final_state["bookmarks"]
    (line,) = failure_lines(run, "tap-legacy-erp")
    assert line.startswith("tap-legacy-erp: stream failed: kunden: 404 from the ERP on /rest/Kun")


@pytest.fixture
def reader(mariadb_server, genius_db):
    """A database user that may read each Genius table by a grant of its own (as a DBA
    grants a reporting user), so that one grant can be revoked."""
    if mariadb_server.process is None:
        pytest.skip("revoking a grant needs the throwaway MariaDB's root (not GENIUS_TEST_URL)")
    root = pymysql.connect(unix_socket=str(mariadb_server.socket), user="root", autocommit=True)
    database = mariadb_server.database
    with root.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS 'reader'@'%'")
        cursor.execute("CREATE USER 'reader'@'%' IDENTIFIED BY 'reader-secret'")
        cursor.execute(f"SHOW TABLES FROM {database}")
        for (table,) in cursor.fetchall():
            cursor.execute(f"GRANT SELECT ON {database}.`{table}` TO 'reader'@'%'")
    yield root
    with root.cursor() as cursor:
        cursor.execute("DROP USER IF EXISTS 'reader'@'%'")
    root.close()


def test_genius_a_table_whose_select_was_revoked_fails_alone(mariadb_server, reader):
    config = {**mariadb_server.settings(), "user": "reader", "password": "reader-secret"}
    selected = ["appointments", "leads", "prospects", "users"]
    clean = run_tap("tap-genius", config, select=selected)
    assert clean.returncode == 0, clean.stderr[-2000:]
    with reader.cursor() as cursor:
        cursor.execute(f"REVOKE SELECT ON {mariadb_server.database}.lead FROM 'reader'@'%'")
    run = run_tap("tap-genius", config, catalog=clean.catalog)  # the catalog Meltano cached
    assert run.returncode == 1
    assert "leads" not in counts(run)
    for stream in ("appointments", "prospects", "users"):
        assert counts(run)[stream] == counts(clean)[stream] > 0, stream
        assert run.final_state["bookmarks"][stream] == clean.final_state["bookmarks"][stream]
    (line,) = failure_lines(run, "tap-genius")
    assert line.startswith("tap-genius: stream failed: leads: the database has no table lead")
    assert "reader-secret" not in run.stderr
