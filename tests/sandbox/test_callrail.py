"""The CallRail stand-in behaves as documented, checked with plain HTTP requests."""

import datetime
import tracemalloc

import pytest
import requests

KEY = {"Authorization": 'Token token="sandbox-callrail-key"'}


def get(server, path, **params):
    return requests.get(f"{server.url}{path}", headers=KEY, params=params, timeout=10)


@pytest.fixture
def account(callrail_server):
    return get(callrail_server, "/v3/a.json").json()["accounts"][0]["id"]


def test_token_auth_quoted_and_unquoted_else_401(callrail_server):
    assert get(callrail_server, "/v3/a.json").status_code == 200
    unquoted = {"Authorization": "Token token=sandbox-callrail-key"}
    assert requests.get(f"{callrail_server.url}/v3/a.json", headers=unquoted).status_code == 200
    wrong = requests.get(
        f"{callrail_server.url}/v3/a.json", headers={"Authorization": "Token token=x"}
    )
    assert wrong.status_code == 401 and "error" in wrong.json()
    assert requests.get(f"{callrail_server.url}/v3/a.json").status_code == 401


def test_lists_have_their_envelope_keys(callrail_server, account):
    expected = {
        "companies": "companies",
        "trackers": "trackers",
        "form_submissions": "form_submissions",
        "text-messages": "conversations",
        "tags": "tags",
        "users": "users",
        "calls": "calls",
    }
    for path, key in expected.items():
        body = get(callrail_server, f"/v3/a/{account}/{path}.json", start_date="2026-01-01").json()
        assert key in body, path
        assert {"page", "per_page", "total_pages", "total_records"} <= set(body)


def test_unknown_account_or_list_is_404(callrail_server, account):
    assert get(callrail_server, "/v3/a/ACC999/calls.json").status_code == 404
    assert get(callrail_server, f"/v3/a/{account}/text_messages.json").status_code == 404


def test_page_paging_covers_every_call_once_and_caps_per_page(callrail_server, account):
    window = {"start_date": (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()}
    first = get(callrail_server, f"/v3/a/{account}/calls.json", per_page=1000, **window).json()
    assert first["per_page"] == 250
    ids = []
    for page in range(1, first["total_pages"] + 1):
        body = get(
            callrail_server, f"/v3/a/{account}/calls.json", page=page, per_page=250, **window
        )
        ids += [call["id"] for call in body.json()["calls"]]
    assert len(ids) == len(set(ids)) == first["total_records"] == 300


def test_relative_pagination_follows_next_page_urls(callrail_server, account):
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    body = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        relative_pagination="true",
        per_page=70,
        start_date=start,
    ).json()
    ids = [c["id"] for c in body["calls"]]
    while body["has_next_page"]:
        body = requests.get(body["next_page"], headers=KEY, timeout=10).json()
        ids += [c["id"] for c in body["calls"]]
    assert "total_pages" not in body
    assert len(ids) == len(set(ids)) == 300


def test_dates_are_inclusive_in_the_account_time_zone(callrail_server, account):
    day = (callrail_server.now - datetime.timedelta(days=20)).date().isoformat()
    calls = get(
        callrail_server, f"/v3/a/{account}/calls.json", start_date=day, end_date=day, per_page=250
    ).json()["calls"]
    assert calls
    for call in calls:
        local = datetime.datetime.fromisoformat(call["start_time"])
        assert local.date().isoformat() == day
        assert local.utcoffset() in (datetime.timedelta(hours=-5), datetime.timedelta(hours=-4))


def test_no_dates_means_a_30_day_window_and_old_dates_are_refused(callrail_server, account):
    recent = get(callrail_server, f"/v3/a/{account}/calls.json").json()["total_records"]
    assert 0 < recent < 300
    old = get(callrail_server, f"/v3/a/{account}/calls.json", start_date="2020-01-01")
    assert old.status_code == 400 and "25 months" in old.json()["error"]


def test_fields_sort_order_and_filters(callrail_server, account):
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    plain = get(callrail_server, f"/v3/a/{account}/calls.json", start_date=start).json()["calls"][0]
    assert "value" not in plain and "start_time" in plain
    rich = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        start_date=start,
        fields="value,tags,company_id",
    ).json()["calls"][0]
    assert {"value", "tags", "company_id"} <= set(rich)
    ascending = get(
        callrail_server, f"/v3/a/{account}/calls.json", start_date=start, order="asc", per_page=250
    ).json()["calls"]
    times = [datetime.datetime.fromisoformat(c["start_time"]) for c in ascending]
    assert times == sorted(times)
    answered = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        start_date=start,
        answer_status="answered",
        per_page=250,
    ).json()
    assert answered["calls"] and all(c["answered"] for c in answered["calls"])
    ignored = get(callrail_server, f"/v3/a/{account}/calls.json", start_date=start, answered="true")
    assert ignored.json()["total_records"] == 300, "unknown parameters are ignored"


def test_mutate_changes_the_truth(callrail_server, account):
    before = {c["id"] for c in callrail_server.accounts[account].calls.live_records()}
    touched = requests.post(f"{callrail_server.url}/_sandbox/mutate", json={}).json()[account]
    after = {c["id"]: c for c in callrail_server.accounts[account].calls.live_records()}
    assert len(after) == len(before) - len(touched["calls"]["deleted"]) + 5
    updated_index = touched["calls"]["updated"][0]
    updated = callrail_server.accounts[account].calls.record(updated_index)
    assert updated["note"].startswith("Updated note")


def test_million_calls_are_served_without_holding_them():
    from sandbox.callrail import CallRailStandIn

    tracemalloc.start()
    server = CallRailStandIn(accounts=1, calls_per_account=1_000_000).start()
    try:
        acc = next(iter(server.accounts))
        start = (server.now - datetime.timedelta(days=100)).date().isoformat()
        for page in (1, 2000, 4000):
            body = get(
                server, f"/v3/a/{acc}/calls.json", start_date=start, per_page=250, page=page
            ).json()
            assert body["total_records"] == 1_000_000 and len(body["calls"]) == 250
        _, peak = tracemalloc.get_traced_memory()
        assert peak < 20 * 1024 * 1024, f"peak {peak} bytes: calls were materialised"
    finally:
        tracemalloc.stop()
        server.stop()
