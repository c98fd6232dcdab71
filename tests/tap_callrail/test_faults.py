"""Faults end in complete data or one clear error; the rate limit is respected."""

import pytest
import requests

from tests.support.singer_run import run_tap
from tests.tap_callrail.conftest import truth

FAULTS = {
    "429 with Retry-After": {"kind": "429", "retry_after": "1", "times": 2},
    "429 without Retry-After": {"kind": "429", "times": 3},
    "5xx burst": {"kind": "503", "times": 3, "after": 2},
    "dropped connection": {"kind": "drop", "times": 2, "after": 1},
    "truncated JSON": {"kind": "truncate", "times": 2, "after": 3},
    "invalid JSON": {"kind": "invalid_json", "times": 1, "after": 4},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_are_retried_to_complete_data(callrail_server, callrail_config, fault):
    spec = {**FAULTS[fault], "path": "/calls"}
    requests.post(f"{callrail_server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    callrail_config["page_size"] = 50
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert {c["id"] for c in run.records("calls")} == set(truth(callrail_server, "calls"))
    assert callrail_server.faults[0].times == 0, "the fault happened"


def test_slow_answers_time_out_and_are_retried(callrail_server, callrail_config):
    spec = {"kind": "slow", "delay": 2.5, "times": 1, "path": "/tags.json"}
    requests.post(f"{callrail_server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    callrail_config["timeout_seconds"] = 1
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert len(run.records("tags")) == len(truth(callrail_server, "tags"))


def test_persistent_failure_is_one_line_after_retries(callrail_server, callrail_config):
    spec = {"kind": "500", "times": 100, "path": "/users.json"}
    requests.post(f"{callrail_server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    callrail_config["max_retries"] = 3
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 1
    (line,) = run.error_lines("tap-callrail")
    assert "users (500 from CallRail on " in line and "/users.json" in line
    assert line.endswith("where the source kept failing, try again later")
    assert "Traceback" not in run.stderr


def test_bad_key_is_one_line_naming_the_setting_never_the_key(callrail_server, callrail_config):
    callrail_config["api_key"] = "wrong-key-canary-7731"
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 1
    (line,) = run.error_lines("tap-callrail")
    assert "refused the API key (401" in line and "api_key" in line
    assert "wrong-key-canary-7731" not in run.stderr
    assert "Traceback" not in run.stderr
    assert not run.records("calls")


def test_bad_config_is_refused_before_any_request(callrail_server, callrail_config):
    del callrail_config["api_key"]
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 1
    assert "api_key" in run.stderr and "Traceback" not in run.stderr
    assert not callrail_server.requests


def test_proactive_limit_avoids_429_from_a_limited_server(callrail_server, callrail_config):
    limits = {"limits": [{"requests": 4, "seconds": 1}]}
    requests.post(f"{callrail_server.url}/_sandbox/rate-limits", json=limits, timeout=5)
    callrail_config |= {"requests_per_minute": 200, "page_size": 100}
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert callrail_server.rate_limiter.refused == 0, "the tap never hit the server's limit"
    assert {c["id"] for c in run.records("calls")} == set(truth(callrail_server, "calls"))


def test_without_the_limit_the_same_server_refuses(callrail_server, callrail_config):
    """The control: the server's limit is real, so the test above could fail."""
    limits = {"limits": [{"requests": 4, "seconds": 1}]}
    requests.post(f"{callrail_server.url}/_sandbox/rate-limits", json=limits, timeout=5)
    callrail_config |= {"page_size": 100}
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert callrail_server.rate_limiter.refused > 0
