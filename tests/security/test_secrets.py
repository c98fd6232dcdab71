"""Secrets never leave: every tap and the target run at debug level with canary secrets, on
a run that works and on one the source refuses, and nothing they wrote (stdout, stderr, the
warehouse's tables and sync history) holds a canary."""

from __future__ import annotations

import uuid

import pymysql
import pytest

from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from sandbox.legacy_erp import LegacyErpStandIn
from tests.support.singer_run import run_pipeline

pytestmark = pytest.mark.stand_in


def canary(kind: str) -> str:
    return f"canary-{kind}-{uuid.uuid4().hex[:12]}"


def pipeline(tap: str, tap_config: dict, target_config: dict) -> str:
    """`tap | target-warehouse` at debug level; everything both wrote, as text."""
    return run_pipeline(tap, tap_config, target_config, env={"LOGLEVEL": "DEBUG"}).output


def warehouse_text(db, *schemas: str) -> str:
    """Every row of every table in `schemas`, as text."""
    found = []
    with db.cursor() as cursor:
        for schema in schemas:
            cursor.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            )
            for (table,) in cursor.fetchall():
                cursor.execute(f'SELECT t::text FROM "{schema}"."{table}" t')
                found.extend(row[0] for row in cursor.fetchall())
    return "\n".join(found)


def assert_no_canary(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"{secret[:14]}… leaked"


@pytest.fixture
def target(target_config):
    """The target's settings with a canary password (the test server trusts local users)."""
    password = canary("pg")
    return {**target_config, "password": password}, password


def run_both(db, tap, good_config, bad_config, target_and_password, *secrets) -> None:
    target_config, password = target_and_password
    schemas = (target_config["default_target_schema"], target_config["history_schema"])
    worked = pipeline(tap, good_config, target_config)
    assert "Summary" in worked, worked[-2000:]
    refused = pipeline(tap, bad_config, target_config)
    assert f"{tap}: error:" in refused, refused[-2000:]
    assert_no_canary(worked + refused + warehouse_text(db, *schemas), password, *secrets)


def test_tap_callrail_and_the_target_keep_secrets(db, target):
    key = canary("callrail")
    server = CallRailStandIn(calls_per_account=20, api_key=key).start()
    try:
        config = {"api_key": key, "api_url": f"{server.url}/v3", "backoff_base_seconds": 0.01}
        bad = {**config, "api_key": canary("callrail-wrong")}
        run_both(db, "tap-callrail", config, bad, target, key, bad["api_key"])
    finally:
        server.stop()


def test_tap_arrivy_keeps_secrets(db, target):
    key, token = canary("arrivy-key"), canary("arrivy-token")
    server = ArrivyStandIn(tasks=20, auth_key=key, auth_token=token).start()
    try:
        config = {
            "auth_key": key,
            "auth_token": token,
            "api_url": f"{server.url}/api",
            "requests_per_minute": 100_000,
            "backoff_base_seconds": 0.01,
        }
        bad = {**config, "auth_token": canary("arrivy-wrong")}
        run_both(db, "tap-arrivy", config, bad, target, key, token, bad["auth_token"])
    finally:
        server.stop()


def test_tap_legacy_erp_keeps_secrets(db, target):
    password = canary("erp")
    server = LegacyErpStandIn(documents=10, username="erp", password=password).start()
    try:
        config = {
            "base_url": server.url,
            "username": "erp",
            "password": password,
            "backoff_base_seconds": 0.01,
        }
        bad = {**config, "password": canary("erp-wrong")}
        run_both(db, "tap-legacy-erp", config, bad, target, password, bad["password"])
    finally:
        server.stop()


def test_tap_genius_keeps_secrets(db, target, mariadb_server, genius_db):
    if not mariadb_server.socket.exists():
        pytest.skip("an external GENIUS_TEST_URL server: no root socket to add a canary user")
    password = canary("genius")
    root = pymysql.connect(unix_socket=str(mariadb_server.socket), user="root", autocommit=True)
    with root.cursor() as cursor:
        cursor.execute("CREATE USER IF NOT EXISTS 'canary'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute("ALTER USER 'canary'@'%%' IDENTIFIED BY %s", (password,))
        cursor.execute(f"GRANT SELECT ON {mariadb_server.database}.* TO 'canary'@'%'")
    root.close()
    config = {**mariadb_server.settings(), "user": "canary", "password": password}
    bad = {**config, "password": canary("genius-wrong")}
    run_both(db, "tap-genius", config, bad, target, password, bad["password"])
    url = {**config, "sqlalchemy_url": f"mysql+pymysql://canary:{password}@127.0.0.1:1/x"}
    refused = pipeline("tap-genius", {"sqlalchemy_url": url["sqlalchemy_url"]}, target[0])
    assert "tap-genius: error:" in refused
    assert_no_canary(refused, password)
