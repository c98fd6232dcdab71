"""A reconciliation pass re-reads the window whatever the bookmark and frames it with
RECONCILE messages the target can trust."""

import datetime

from tests.support.singer_run import run_tap
from tests.tap_callrail.conftest import truth


def reconcile_messages(run, stream):
    return [m for m in run.messages if m["type"] == "RECONCILE" and m["stream"] == stream]


def ends(run, stream):
    return [m for m in reconcile_messages(run, stream) if m["phase"] == "end"]


def moment(text):
    return datetime.datetime.fromisoformat(text)


def test_the_window_is_read_whole_despite_a_recent_bookmark(callrail_server, callrail_config):
    """A bookmark at the newest call would make a delta read a day; the pass reads 60."""
    first = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    callrail_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap(
        "tap-callrail", callrail_config, state=first.final_state, select=["accounts", "calls"]
    )
    assert run.returncode == 0, run.stderr
    now = callrail_server.now
    expected = {
        key
        for key, call in truth(callrail_server, "calls").items()
        if moment(call["start_time"]) >= now - datetime.timedelta(days=59)
    }
    assert expected <= {c["id"] for c in run.records("calls")}


def test_begin_follows_the_schema_and_the_ends_follow_every_accounts_calls(
    callrail_server, callrail_config
):
    callrail_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    assert run.returncode == 0, run.stderr
    kinds = [
        (m["type"], m.get("phase"), m.get("record", {}).get("account_id"))
        for m in run.messages
        if m.get("stream") == "calls"
    ]
    assert kinds[0][0] == "SCHEMA" and kinds[1] == ("RECONCILE", "begin", None)
    phases = [m["phase"] for m in reconcile_messages(run, "calls")]
    accounts = len(callrail_server.accounts)
    assert phases == ["begin"] * accounts + ["end"] * accounts
    for end in ends(run, "calls"):
        account = end["scope"]["account_id"]
        position = run.messages.index(end)
        later = [m for m in run.messages[position:] if m["type"] == "RECORD"]
        assert all(m["record"]["account_id"] != account for m in later if m["stream"] == "calls")


def test_the_end_window_is_a_day_inside_what_was_asked_for(callrail_server, callrail_config):
    callrail_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    end = ends(run, "calls")[-1]
    asked = [r.query for r in callrail_server.requests if "/calls.json" in r.path][-1]
    sent_start = moment(asked["start_date"][0]).replace(tzinfo=datetime.timezone.utc)
    sent_end = moment(asked["end_date"][0]).replace(tzinfo=datetime.timezone.utc)
    window = end["window"]
    assert window["property"] == "start_time"
    assert moment(window["from"]) >= sent_start + datetime.timedelta(days=1)
    assert moment(window["to"]) <= sent_end - datetime.timedelta(days=1)
    assert moment(window["from"]) <= callrail_server.now - datetime.timedelta(days=59)


def test_company_ids_narrow_the_scope(callrail_server, callrail_config):
    account = next(iter(callrail_server.accounts.values()))
    company = account.company_id(0)
    callrail_config |= {"reconcile": True, "reconcile_days": 30, "company_ids": [company]}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    assert run.returncode == 0, run.stderr
    assert all(e["scope"]["company_id"] == [company] for e in ends(run, "calls"))


def test_max_pages_reads_but_never_ends_a_window(callrail_server, callrail_config):
    callrail_config |= {"reconcile": True, "reconcile_days": 60, "max_pages": 1, "page_size": 10}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    assert run.returncode == 0, run.stderr
    assert reconcile_messages(run, "calls") == []
    assert "not reconciled: max_pages reads only part of the scope" in run.stderr


def test_texts_are_re_read_but_never_retired(callrail_server, callrail_config):
    """CallRail does not say which time its date filter selects conversations by."""
    callrail_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "text_messages"])
    assert run.returncode == 0, run.stderr
    assert [m["phase"] for m in reconcile_messages(run, "text_messages")] == ["begin"] * len(
        callrail_server.accounts
    )


def test_forms_are_reconciled_on_submitted_at(callrail_server, callrail_config):
    callrail_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "form_submissions"])
    found = ends(run, "form_submissions")
    assert found and all(e["window"]["property"] == "submitted_at" for e in found)


def test_without_reconcile_no_reconcile_message(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls", "users"])
    assert reconcile_messages(run, "calls") == reconcile_messages(run, "users") == []
    off = {**callrail_config, "reconcile": False, "reconcile_days": 30}
    run = run_tap("tap-callrail", off, select=["accounts", "calls"])
    assert reconcile_messages(run, "calls") == []


def test_reconcile_days_alone_is_the_former_spelling_of_the_switch(
    callrail_server, callrail_config
):
    callrail_config["reconcile_days"] = 60
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "calls"])
    assert run.returncode == 0, run.stderr
    assert len(ends(run, "calls")) == len(callrail_server.accounts)
    assert "Setting reconcile_days alone is the former way to turn reconcile on" in run.stderr


SMALL_LISTS = ["trackers", "tags", "users"]


def test_the_small_lists_are_reconciled_whole_per_account(callrail_server, callrail_config):
    callrail_config["reconcile"] = True
    run = run_tap("tap-callrail", callrail_config, select=["accounts", *SMALL_LISTS])
    assert run.returncode == 0, run.stderr
    accounts = sorted(callrail_server.accounts)
    for stream in SMALL_LISTS:
        (end,) = ends(run, stream)
        assert "window" not in end and sorted(end["scope"]["account_id"]) == accounts
    (end,) = ends(run, "accounts")
    assert end["whole_table"] is True


def test_companies_are_read_but_never_retired(callrail_server, callrail_config):
    callrail_config["reconcile"] = True
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "companies"])
    assert run.returncode == 0, run.stderr
    assert run.records("companies") and ends(run, "companies") == []


def test_a_company_filter_scopes_tags_and_leaves_trackers_unreconciled(
    callrail_server, callrail_config
):
    """Tags say their company_id; trackers only name theirs inside `company`."""
    company = next(iter(callrail_server.accounts.values())).company_id(0)
    callrail_config |= {"reconcile": True, "company_ids": [company]}
    run = run_tap("tap-callrail", callrail_config, select=["accounts", "tags", "trackers"])
    assert run.returncode == 0, run.stderr
    assert all(e["scope"]["company_id"] == [company] for e in ends(run, "tags"))
    assert ends(run, "trackers") == []
    assert "trackers is read but not reconciled: company_ids filters it" in run.stderr
