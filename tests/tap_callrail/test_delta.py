"""Delta syncs: bookmarks per account, the look-back, resume from state, no gaps."""

import datetime

import requests

from tests.support.singer_run import run_tap
from tests.tap_callrail.conftest import truth


def bookmarks(state, stream):
    return {
        p["context"]["account_id"]: p["replication_key_value"]
        for p in state["bookmarks"][stream]["partitions"]
    }


def test_bookmarks_are_kept_per_account(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    marks = bookmarks(run.final_state, "calls")
    assert set(marks) == set(callrail_server.accounts)
    for account_id, mark in marks.items():
        latest = max(
            datetime.datetime.fromisoformat(c["start_time"])
            for c in callrail_server.accounts[account_id].calls.live_records()
        )
        assert datetime.datetime.fromisoformat(mark) == latest


def test_second_run_picks_up_new_and_late_changed_calls(callrail_server, callrail_config):
    callrail_config["lookback_minutes"] = 60 * 24 * 200  # everything is within the look-back
    first = run_tap("tap-callrail", callrail_config)
    changes = requests.post(f"{callrail_server.url}/_sandbox/mutate", json={}, timeout=10).json()
    second = run_tap("tap-callrail", callrail_config, state=first.final_state)
    assert second.returncode == 0, second.stderr
    merged = {c["id"]: c for c in first.records("calls")}
    merged |= {c["id"]: c for c in second.records("calls")}
    expected = truth(callrail_server, "calls")
    deleted = set(merged) - set(expected)
    assert set(expected) <= set(merged), "no call is missing"
    assert len(deleted) == sum(len(c["calls"]["deleted"]) for c in changes.values())
    for call_id, call in expected.items():
        if call["note"] and call["note"].startswith("Updated note"):
            assert merged[call_id]["note"] == call["note"], "late changes are picked up"


def test_without_look_back_only_newer_calls_come_again(callrail_server, callrail_config):
    callrail_config["lookback_minutes"] = 0
    first = run_tap("tap-callrail", callrail_config)
    requests.post(f"{callrail_server.url}/_sandbox/mutate", json={"creates": 4}, timeout=10)
    second = run_tap("tap-callrail", callrail_config, state=first.final_state)
    again = {c["id"] for c in second.records("calls")}
    newest = {c["id"] for c in first.records("calls")} & again
    assert len(again - newest) == 4 * len(callrail_server.accounts), "the new calls"
    assert len(newest) <= len(callrail_server.accounts), "only the bookmarked call repeats (>=)"


def test_look_back_window_reaches_behind_the_bookmark(callrail_server, callrail_config):
    callrail_config["lookback_minutes"] = 60 * 24 * 3
    first = run_tap("tap-callrail", callrail_config)
    second = run_tap("tap-callrail", callrail_config, state=first.final_state)
    for account_id, mark in bookmarks(first.final_state, "calls").items():
        window_start = datetime.datetime.fromisoformat(mark) - datetime.timedelta(days=3)
        expected = {
            c["id"]
            for c in callrail_server.accounts[account_id].calls.live_records()
            if datetime.datetime.fromisoformat(c["start_time"]) >= window_start
        }
        got = {c["id"] for c in second.records("calls") if c["account_id"] == account_id}
        assert got == expected


def test_a_first_sync_starts_at_start_date_the_look_back_only_reaches_behind_a_bookmark(
    callrail_server, callrail_config
):
    start = callrail_server.now - datetime.timedelta(days=30)
    callrail_config |= {"start_date": start.isoformat(), "lookback_minutes": 60 * 24 * 3}
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    expected = {
        c["id"]
        for account in callrail_server.accounts.values()
        for c in account.calls.live_records()
        if datetime.datetime.fromisoformat(c["start_time"]) >= start
    }
    assert {c["id"] for c in run.records("calls")} == expected
    asked = {
        value
        for r in callrail_server.requests
        if r.path.endswith("/calls.json")
        for value in r.query.get("start_date", [])
    }
    assert asked == {start.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")}


def test_resume_from_a_given_state(callrail_server, callrail_config):
    account = next(iter(callrail_server.accounts.values()))
    mark = account.call_time(250).astimezone(account.zone).isoformat()
    state = {
        "bookmarks": {
            "calls": {
                "partitions": [
                    {
                        "context": {"account_id": account.id},
                        "replication_key": "start_time",
                        "replication_key_value": mark,
                    }
                ]
            }
        }
    }
    callrail_config |= {"lookback_minutes": 0, "account_ids": [account.id]}
    run = run_tap("tap-callrail", callrail_config, state=state)
    assert [c["id"] for c in run.records("calls")] == [
        account.calls.record(i)["id"] for i in range(250, account.calls.size)
    ]


def test_state_is_emitted_during_the_sync_for_a_killed_run_to_resume(
    callrail_server, callrail_config
):
    callrail_config["page_size"] = 25
    run = run_tap("tap-callrail", callrail_config)
    marks = [
        bookmarks(s, "calls")
        for s in run.states
        if "calls" in s.get("bookmarks", {})
        and "partitions" in s["bookmarks"]["calls"]
        and all("replication_key_value" in p for p in s["bookmarks"]["calls"]["partitions"])
    ]
    assert len({tuple(sorted(m.items())) for m in marks}) > 1, "the bookmark advances mid-sync"
