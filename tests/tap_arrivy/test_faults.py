"""Arrivy faults end in complete data; the per-minute limit is kept."""

import pytest
import requests

from sandbox.arrivy import ArrivyStandIn
from tests.support.singer_run import run_tap


@pytest.fixture
def arrivy_server():
    """A small stand-in: the fault cases need few requests each."""
    server = ArrivyStandIn(tasks=30).start()
    yield server
    server.stop()


FAULTS = {
    "429 with Retry-After": {"kind": "429", "retry_after": "1", "times": 2},
    "429 without Retry-After": {"kind": "429", "times": 3},
    "5xx burst": {"kind": "502", "times": 3, "after": 1},
    "dropped connection": {"kind": "drop", "times": 2},
    "invalid JSON": {"kind": "invalid_json", "times": 1, "after": 1},
    "empty body cut short": {"kind": "truncate", "times": 1, "after": 2},
}


@pytest.mark.parametrize("fault", list(FAULTS))
def test_faults_are_retried_to_complete_data(arrivy_server, arrivy_config, fault):
    spec = {**FAULTS[fault], "path": "/api/customers"}
    requests.post(f"{arrivy_server.url}/_sandbox/faults", json={"faults": [spec]}, timeout=5)
    arrivy_config |= {"page_size": 4, "include_unscheduled": False}
    run = run_tap("tap-arrivy", arrivy_config, select=["customers"])
    assert run.returncode == 0, run.stderr
    assert len({c["id"] for c in run.records("customers")}) == arrivy_server.customers.size
    assert arrivy_server.faults[0].times == 0


def test_requests_are_spaced_to_the_limit(arrivy_server, arrivy_config):
    limits = {"limits": [{"requests": 5, "seconds": 1}]}
    requests.post(f"{arrivy_server.url}/_sandbox/rate-limits", json=limits, timeout=5)
    arrivy_config |= {
        "requests_per_minute": 270,
        "max_pages": 1,
        "include_unscheduled": False,
        "end_date": arrivy_server.now.isoformat(),
        "start_date": arrivy_server.now.isoformat(),
    }
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 0, run.stderr
    assert arrivy_server.rate_limiter.refused == 0
