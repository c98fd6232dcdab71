"""Connection problems end in one line that names the fix; a dropped connection resumes."""

from __future__ import annotations

import socket
import threading
import time
from collections import Counter

import pymysql
import pytest
import sqlalchemy as sa
from tap_genius.tap import TapGenius

from tests.support.singer_run import run_tap
from tests.tap_genius.conftest import table_ids


def single_error_line(run) -> str:
    assert run.returncode == 1
    lines = run.error_lines("tap-genius")
    assert len(lines) == 1, run.stderr[-2000:]
    assert "Traceback" not in run.stderr
    return lines[0]


def test_bad_credentials(mariadb_server, genius_db):
    config = {**mariadb_server.settings(), "password": "canary-wrong-password-7731"}
    line = single_error_line(run_tap("tap-genius", config))
    assert "refused user 'genius'" in line and "GENIUS_DB_PASSWORD" in line
    assert "canary-wrong-password-7731" not in run_tap("tap-genius", config).stderr


@pytest.fixture
def silent_port():
    """A port whose listen queue is full: the kernel drops further SYNs, so a connect
    attempt hangs until its timeout, as with a firewalled or unreachable host."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    fillers = []
    for _ in range(4):
        filler = socket.socket()
        filler.setblocking(False)
        filler.connect_ex(listener.getsockname())
        fillers.append(filler)
    time.sleep(0.2)
    yield listener.getsockname()[1]
    for sock in [*fillers, listener]:
        sock.close()


def test_an_unreachable_host_times_out_clearly(silent_port):
    config = {
        "host": "127.0.0.1",
        "port": silent_port,
        "user": "genius",
        "password": "x",
        "database": "genius",
        "connect_timeout_seconds": 2,
    }
    started = time.monotonic()
    line = single_error_line(run_tap("tap-genius", config, timeout=60))
    assert time.monotonic() - started < 30
    assert "cannot reach the Genius database at 127.0.0.1" in line
    assert "2 s connect timeout" in line and "GENIUS_DB_HOST" in line


def test_missing_settings_and_unknown_database(mariadb_server, genius_db):
    line = single_error_line(run_tap("tap-genius", {"user": "genius"}))
    assert "set host, database (or sqlalchemy_url)" in line
    config = {**mariadb_server.settings(), "database": "nope"}
    line = single_error_line(run_tap("tap-genius", config))
    assert "to database 'nope'" in line and "GENIUS_DB_NAME" in line


def kill_reading_connections(settings: dict, user: str) -> int:
    """KILL the connections of `user` reading appointments, as a server restart or a DBA
    would."""
    admin = pymysql.connect(
        host=settings["host"],
        port=settings["port"],
        user=settings["user"],
        password=settings["password"],
        database=settings["database"],
    )
    killed = 0
    with admin.cursor() as cursor:
        cursor.execute(
            "SELECT id FROM information_schema.processlist "
            "WHERE user = %s AND id <> CONNECTION_ID() AND info LIKE '%%FROM appointment%%'",
            (user,),
        )
        for (connection_id,) in cursor.fetchall():
            cursor.execute(f"KILL CONNECTION {int(connection_id)}")
            killed += 1
    admin.close()
    return killed


def test_a_dropped_connection_resumes_from_the_last_row(mariadb_server, genius_db):
    settings = {**mariadb_server.settings(), "chunk_size": 1000}
    tap = TapGenius(config=settings, parse_env_config=False)
    stream = tap.streams["appointments"]
    original = stream._stream
    killed = []

    def slow_stream(query):
        """The tap's own query, each row made to take 5 ms, so the kill lands mid-read."""
        slowed = query.where(sa.func.sleep(0.005) == 0)
        if not killed:
            threading.Timer(
                0.5, lambda: killed.append(kill_reading_connections(settings, "genius"))
            ).start()
        return original(slowed)

    retries = []
    original_retry = stream._retry_or_raise

    def counted_retry(error, failures):
        retries.append(error)
        return original_retry(error, failures)

    stream._stream = slow_stream
    stream._retry_or_raise = counted_retry
    records = list(stream.get_records(None))
    assert killed and killed[0] >= 1, "the test must actually drop a connection"
    assert len(retries) == 1, "the tap saw the connection drop and reconnected once"
    counted = Counter(record["id"] for record in records)
    assert sorted(counted) == table_ids(genius_db, "appointment")
    assert max(counted.values()) == 1, "resumed after the last row read, not from the start"
