"""Shared stand-in machinery: fault injection, rate limits and the request log."""

import time

import pytest
import requests

KEY = {"Authorization": 'Token token="sandbox-callrail-key"'}


def configure(server, action, **payload):
    return requests.post(f"{server.url}/_sandbox/{action}", json=payload, timeout=5).json()


def accounts(server):
    return requests.get(f"{server.url}/v3/a.json", headers=KEY, timeout=5)


def test_429_with_and_without_retry_after(callrail_server):
    configure(
        callrail_server,
        "faults",
        faults=[
            {"kind": "429", "path": "/v3/a.json", "retry_after": "7"},
            {"kind": "429", "path": "/v3/a.json"},
        ],
    )
    first, second, third = (
        accounts(callrail_server),
        accounts(callrail_server),
        accounts(callrail_server),
    )
    assert (first.status_code, first.headers.get("Retry-After")) == (429, "7")
    assert second.status_code == 429 and "Retry-After" not in second.headers
    assert third.status_code == 200


def test_5xx_burst_after_some_good_requests(callrail_server):
    configure(callrail_server, "faults", faults=[{"kind": "503", "after": 1, "times": 3}])
    codes = [accounts(callrail_server).status_code for _ in range(5)]
    assert codes == [200, 503, 503, 503, 200]


def test_slow_response(callrail_server):
    configure(callrail_server, "faults", faults=[{"kind": "slow", "delay": 0.5}])
    started = time.monotonic()
    assert accounts(callrail_server).status_code == 200
    assert time.monotonic() - started >= 0.5
    with pytest.raises(requests.Timeout):
        configure(callrail_server, "faults", faults=[{"kind": "slow", "delay": 1.5}])
        requests.get(f"{callrail_server.url}/v3/a.json", headers=KEY, timeout=0.3)


def test_dropped_connection(callrail_server):
    configure(callrail_server, "faults", faults=[{"kind": "drop"}])
    with pytest.raises(requests.ConnectionError):
        accounts(callrail_server)
    assert accounts(callrail_server).status_code == 200


@pytest.mark.parametrize("kind", ["truncate", "invalid_json"])
def test_broken_bodies(callrail_server, kind):
    configure(callrail_server, "faults", faults=[{"kind": kind}])
    response = accounts(callrail_server)
    assert response.status_code == 200
    with pytest.raises(requests.JSONDecodeError):
        response.json()


def test_rate_limit_is_enforced_per_account(callrail_server):
    configure(callrail_server, "rate-limits", limits=[{"requests": 3, "seconds": 60}])
    account_ids = [a["id"] for a in accounts(callrail_server).json()["accounts"]]
    first_account = [
        requests.get(
            f"{callrail_server.url}/v3/a/{account_ids[0]}/tags.json", headers=KEY
        ).status_code
        for _ in range(4)
    ]
    assert first_account == [200, 200, 200, 429]
    other = requests.get(f"{callrail_server.url}/v3/a/{account_ids[1]}/tags.json", headers=KEY)
    assert other.status_code == 200, "another account has its own budget"


def test_rate_limit_without_retry_after(callrail_server):
    configure(
        callrail_server,
        "rate-limits",
        limits=[{"requests": 1, "seconds": 60, "send_retry_after": False}],
    )
    accounts(callrail_server)
    refused = accounts(callrail_server)
    assert refused.status_code == 429 and "Retry-After" not in refused.headers


def test_request_log_shows_what_was_sent(callrail_server):
    requests.get(f"{callrail_server.url}/v3/a.json", headers=KEY, params={"per_page": 7})
    log = requests.get(f"{callrail_server.url}/_sandbox/requests", timeout=5).json()
    assert log[-1] == {"path": "/v3/a.json", "query": {"per_page": ["7"]}}


def test_a_field_the_api_adds_appears_on_every_record_of_the_page(callrail_server):
    before = accounts(callrail_server).json()
    fault = {"kind": "new_field", "path": "/v3/a.json", "field": "tier", "value": {"n": 2}}
    configure(callrail_server, "faults", faults=[{**fault, "times": 5}])
    after = accounts(callrail_server).json()
    assert [{**a, "tier": {"n": 2}} for a in before["accounts"]] == after["accounts"]
    assert {k: v for k, v in after.items() if k != "accounts"} == {
        k: v for k, v in before.items() if k != "accounts"
    }
