"""The API fault matrix for each REST tap, through the stand-ins' fault knobs: every fault
ends in complete data, or in one clear error after which a run from the saved state
completes the data. Never partial data with a bookmark that moved past what was missed."""

from __future__ import annotations

import typing as t
from dataclasses import dataclass

import pytest
import requests

from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from sandbox.legacy_erp import LegacyErpStandIn
from tests.support.singer_run import run_tap
from tests.target_warehouse.singer import lines, rows, run_target

pytestmark = pytest.mark.stand_in


@dataclass
class Api:
    tap: str
    server: t.Any
    config: dict
    stream: str
    key: str
    path: str
    """Faults apply to requests whose path contains this."""
    truth: t.Callable[[], set[str]]


def erp() -> Api:
    server = LegacyErpStandIn(documents=30).start()
    return Api(
        "tap-legacy-erp",
        server,
        # keep_new_fields off: its one sample request would meet the fault first, and the
        # faults are meant for the read (the sample's own failure is a warning).
        {
            "base_url": server.url,
            "page_size": 20,
            "timeout_seconds": 1,
            "session_file": "",
            "keep_new_fields": False,
        },
        "kunden",
        "__KEY",
        "/rest/Kunden",
        lambda: {r["__KEY"] for r in server.tables["Kunden"].live_records()},
    )


def callrail() -> Api:
    server = CallRailStandIn(calls_per_account=120).start()

    def truth() -> set[str]:
        return {str(r["id"]) for a in server.accounts.values() for r in a.calls.live_records()}

    return Api(
        "tap-callrail",
        server,
        {
            "api_key": "sandbox-callrail-key",
            "api_url": f"{server.url}/v3",
            "start_date": "2025-06-01T00:00:00Z",
            "page_size": 25,
            "timeout_seconds": 1,
            "requests_per_hour": 10_000_000,
        },
        "calls",
        "id",
        "/calls",
        truth,
    )


def arrivy() -> Api:
    server = ArrivyStandIn(tasks=100).start()
    return Api(
        "tap-arrivy",
        server,
        {
            "auth_key": "sandbox-arrivy-key",
            "auth_token": "sandbox-arrivy-token",
            "api_url": f"{server.url}/api",
            "page_size": 10,
            "timeout_seconds": 1,
            "requests_per_minute": 100_000,
        },
        "customers",
        "id",
        "/customers",
        lambda: {str(r["id"]) for r in server.customers.live_records()},
    )


APIS = {"legacy-erp": erp, "callrail": callrail, "arrivy": arrivy}
TRANSIENT = {
    "429 without Retry-After": {"kind": "429", "times": 2},
    "429 with Retry-After": {"kind": "429", "times": 1, "retry_after": "1"},
    "5xx burst": {"kind": "500", "times": 3},
    "503": {"kind": "503", "times": 2},
    "timeout": {"kind": "slow", "times": 1, "delay": 2.5},
    "dropped connection": {"kind": "drop", "times": 2},
    "truncated JSON": {"kind": "truncate", "times": 2},
    "invalid JSON": {"kind": "invalid_json", "times": 2},
    "empty page mid-stream": {"kind": "empty", "times": 1, "after": 1},
    "records repeated across pages": {"kind": "duplicate", "times": 2, "after": 1},
}
CASES = [(api, fault) for api in APIS for fault in TRANSIENT]


@pytest.fixture
def api(request: pytest.FixtureRequest) -> t.Iterator[Api]:
    made = APIS[request.param]()
    made.config |= {"backoff_base_seconds": 0.05, "max_retries": 5}
    yield made
    made.server.stop()


def keys(run, api: Api) -> set[str]:
    return {str(r[api.key]) for r in run.records(api.stream)}


@pytest.mark.parametrize(("api", "fault"), CASES, indirect=["api"])
def test_transient_faults_end_in_complete_data(api, fault):
    spec = {**TRANSIENT[fault], "path": api.path}
    requests.post(f"{api.server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    run = run_tap(api.tap, api.config, select=[api.stream])
    assert run.returncode == 0, run.stderr[-2000:]
    assert keys(run, api) == api.truth()
    hit = [r for r in api.server.requests if api.path in r.path]
    assert len(hit) > spec["times"], "the fault was met, then retried"


@pytest.mark.parametrize("api", list(APIS), indirect=True)
def test_a_fault_that_persists_is_one_line_and_the_next_run_completes_the_data(api):
    spec = {"kind": "500", "times": 1000, "after": 1, "path": api.path}
    requests.post(f"{api.server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    failed = run_tap(api.tap, api.config, select=[api.stream])
    assert failed.returncode == 1
    (line,) = failed.error_lines(api.tap)
    assert "Fix:" in line and "Traceback" not in failed.stderr
    requests.post(f"{api.server.url}/_sandbox/faults", json={"faults": []}, timeout=5)
    state = failed.final_state if failed.states else None
    resumed = run_tap(api.tap, api.config, state=state, select=[api.stream])
    assert resumed.returncode == 0, resumed.stderr[-2000:]
    assert keys(failed, api) | keys(resumed, api) == api.truth(), "nothing skipped"


@pytest.mark.parametrize("api", list(APIS), indirect=True)
def test_refused_credentials_are_one_line_naming_the_setting(api):
    wrong = {
        "tap-legacy-erp": {"username": "nobody", "password": "wrong"},
        "tap-callrail": {"api_key": "wrong-key"},
        "tap-arrivy": {"auth_token": "wrong-token"},
    }[api.tap]
    if api.tap == "tap-legacy-erp":  # the stand-in asks for basic auth only when it has users
        api.server.basic_auth = ("erp", "right")
    run = run_tap(api.tap, {**api.config, **wrong}, select=[api.stream])
    assert run.returncode == 1
    (line,) = run.error_lines(api.tap)
    assert "refused" in line and "Fix:" in line
    assert not run.records(api.stream)


def test_repeated_records_land_once(target_config, db):
    """Records a page repeats reach the warehouse once: the target upserts by key."""
    made = erp()
    try:
        spec = {"kind": "duplicate", "times": 5, "path": "/rest/Kunden"}
        requests.post(f"{made.server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
        run = run_tap(made.tap, made.config, select=["kunden"])
        sent = [r["__KEY"] for r in run.records("kunden")]
        assert len(sent) > len(set(sent)), "the tap passed the repeats on"
        loaded = run_target(target_config, run_lines(run))
        assert loaded.returncode == 0, loaded.stderr[-2000:]
        landed = rows(db, target_config["default_target_schema"], "kunden", order_by="_key")
        assert sorted(r["_key"] for r in landed) == sorted(made.truth())
    finally:
        made.server.stop()


def run_lines(run) -> str:
    """The tap's messages as the lines it wrote (numbers exact)."""
    return lines(run.messages)
