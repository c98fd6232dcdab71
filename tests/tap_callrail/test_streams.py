"""Every CallRail stream against the stand-in over real HTTP: the records equal the truth."""

import datetime
from decimal import Decimal

from tests.support.contact_truth import assert_contacts_normalised
from tests.support.singer_run import run_tap
from tests.tap_callrail.conftest import sent, truth

LISTS = {
    "companies": "companies",
    "calls": "calls",
    "trackers": "trackers",
    "form_submissions": "form_submissions",
    "text_messages": "text-messages",
    "tags": "tags",
    "users": "users",
}


def test_every_stream_equals_the_stand_in(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert {r["id"] for r in run.records("accounts")} == set(callrail_server.accounts)
    for stream, collection in LISTS.items():
        emitted = [r["id"] for r in run.records(stream)]
        assert len(emitted) == len(set(emitted)), f"{stream}: duplicates"
        assert set(emitted) == set(truth(callrail_server, collection)), stream
    call = run.records("calls")[0]
    assert call["account_id"] in callrail_server.accounts
    assert isinstance(call["id"], str) and isinstance(run.records("tags")[0]["id"], str)


def test_schemas_type_ids_timestamps_and_value(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    calls = run.schema("calls")
    assert calls["key_properties"] == ["id"]
    assert calls["bookmark_properties"] == ["start_time"]
    properties = calls["schema"]["properties"]
    assert properties["id"]["type"] == "string"
    assert properties["start_time"]["format"] == "date-time"
    assert "number" in properties["value"]["type"]
    valued = [c for c in run.records("calls") if c["value"] is not None]
    expected = truth(callrail_server, "calls")
    assert valued and all(
        Decimal(str(c["value"])) == Decimal(expected[c["id"]]["value"]) for c in valued
    )


def test_calls_use_relative_pagination_and_follow_next_page_as_given(
    callrail_server, callrail_config
):
    """CallRail's docs: next_page is used unmodified (numeric account id, no `.json`, the
    sort as api_sort[]); dates go without an offset, read in time_zone=Etc/UTC."""
    callrail_config["page_size"] = 40
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    calls = [r for r in callrail_server.requests if "/calls" in r.path]
    first = [r for r in calls if r.path.endswith("/calls.json")]
    following = [r for r in calls if not r.path.endswith("/calls.json")]
    assert len(first) == 2 and len(following) > 2 * 300 / 40 - 4
    numeric = {str(a.numeric_id) for a in callrail_server.accounts.values()}
    assert {r.path.split("/")[3] for r in following} == numeric
    for request in first:
        query = request.query
        assert query["relative_pagination"] == ["true"] and query["time_zone"] == ["Etc/UTC"]
        assert datetime.datetime.fromisoformat(query["start_date"][0]).tzinfo is None
        assert datetime.datetime.fromisoformat(query["end_date"][0]).tzinfo is None
        assert query["sort"] == ["start_time"] and query["order"] == ["asc"]
        assert {"value", "agent_email", "zip_code"} <= set(query["fields"][0].split(","))
    assert all(r.query["api_sort[][start_time]"] == ["asc"] for r in following)
    assert not any("out of start_time order" in line for line in run.stderr.splitlines())


def test_lists_capped_below_per_page_are_read_whole(callrail_server, callrail_config):
    """Forms, texts and trackers are capped below 250 a page by the stand-in."""
    callrail_server.per_page_caps = {"form_submissions": 7, "text-messages": 4, "trackers": 3}
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    for stream, collection in (
        ("form_submissions", "form_submissions"),
        ("text_messages", "text-messages"),
        ("trackers", "trackers"),
    ):
        emitted = [r["id"] for r in run.records(stream)]
        assert sorted(emitted) == sorted(truth(callrail_server, collection)), stream


def test_text_messages_ask_for_no_sort_and_keep_the_newest_bookmark(
    callrail_server, callrail_config
):
    run = run_tap("tap-callrail", callrail_config)
    texts = sent(callrail_server, "/text-messages.json")
    assert texts and all("sort" not in q and "order" not in q for q in texts)
    newest = {}
    for record in truth(callrail_server, "text-messages").values():
        account = record["id"][3:5]
        newest[account] = max(newest.get(account, ""), record["last_message_at"])
    partitions = run.final_state["bookmarks"]["text_messages"]["partitions"]
    assert sorted(p["replication_key_value"] for p in partitions) == sorted(newest.values())


def test_optional_fields_are_asked_for(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    assert all(a["numeric_id"] for a in run.records("accounts"))
    forms = run.records("form_submissions")
    assert forms and all(f["form_name"] for f in forms)
    assert any(f["tags"] for f in forms)
    calls = run.records("calls")
    assert all(isinstance(c["zip_code"], list) for c in calls)
    assert any(c["agent_email"] for c in calls)
    users = run.records("users")
    assert any(u["companies"] and u["companies"][0]["name"] for u in users)
    assert all(t["tag_level"] in ("account", "company") for t in run.records("tags"))


def test_page_numbers_for_the_other_lists(callrail_server, callrail_config):
    callrail_config["page_size"] = 2
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0
    companies = sent(callrail_server, "/companies.json")
    assert [q.get("page", ["1"])[0] for q in companies[:2]] == ["1", "2"]
    assert len(run.records("companies")) == len(truth(callrail_server, "companies"))


def test_account_and_company_filters(callrail_server, callrail_config):
    account = next(iter(callrail_server.accounts))
    company = callrail_server.accounts[account].company_id(1)
    callrail_config |= {"account_ids": [account], "company_ids": [company]}
    run = run_tap("tap-callrail", callrail_config)
    assert {r["account_id"] for r in run.records("calls")} == {account}
    assert run.records("calls") and {r["company_id"] for r in run.records("calls")} == {company}
    assert all(q.get("company_id") == [company] for q in sent(callrail_server, "/calls.json"))
    assert run.records("trackers")
    assert {r["company"]["id"] for r in run.records("trackers")} == {company}


def test_several_companies_are_kept_on_the_client_trackers_too(callrail_server, callrail_config):
    """With more than one company CallRail cannot filter (one `company_id` a request): the
    tap keeps the records of those companies, a tracker by its `company`."""
    account = next(iter(callrail_server.accounts))
    companies = [callrail_server.accounts[account].company_id(i) for i in (1, 2)]
    callrail_config |= {"account_ids": [account], "company_ids": companies}
    run = run_tap("tap-callrail", callrail_config)
    for stream, company in (("calls", "company_id"), ("trackers", "company")):
        named = {r[company] if stream == "calls" else r[company]["id"] for r in run.records(stream)}
        assert named == set(companies), stream


def test_phone_numbers_and_emails_get_added_columns_not_changes(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    calls = run.records("calls")
    expected = truth(callrail_server, "calls")
    for call in calls:
        assert call["customer_phone_number"] == expected[call["id"]]["customer_phone_number"]
    normalised = [c["customer_phone_number_e164"] for c in calls if c["customer_phone_number_e164"]]
    assert normalised and all(n.startswith("+1") and len(n) == 12 for n in normalised)
    short = [c for c in calls if len(c["customer_phone_number"].replace("-", "")) == 7]
    assert short and all(c["customer_phone_number_e164"] is None for c in short)
    forms = run.records("form_submissions")
    assert any(f["customer_email_valid"] is False for f in forms)
    assert "Data quality, calls:" in run.stderr and "invalid customer_phone_number" in run.stderr


def test_end_date_and_start_date_are_inclusive(callrail_server, callrail_config):
    account = next(iter(callrail_server.accounts.values()))
    index = 150
    moment = account.call_time(index)
    callrail_config |= {
        "account_ids": [account.id],
        "start_date": moment.isoformat(),
        "end_date": moment.isoformat(),
        "lookback_minutes": 0,
    }
    run = run_tap("tap-callrail", callrail_config)
    assert [c["id"] for c in run.records("calls")] == [account.calls.record(index)["id"]]


def test_connection_test_lists_what_the_key_sees(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config, "--test")
    assert run.returncode == 0, run.stderr
    assert "sees 2 accounts" in run.stderr
    for account_id in callrail_server.accounts:
        assert f"Account {account_id}" in run.stderr


def test_old_start_date_is_clamped_to_25_months(callrail_server, callrail_config):
    callrail_config["start_date"] = (
        callrail_server.now - datetime.timedelta(days=1000)
    ).isoformat()
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr
    assert "keeps 25 months" in run.stderr


def test_disabled_companies_are_read_too(callrail_server, callrail_config):
    import requests

    requests.post(f"{callrail_server.url}/_sandbox/mutate", json={}, timeout=5)
    run = run_tap("tap-callrail", callrail_config)
    companies = run.records("companies")
    assert sorted(c["id"] for c in companies) == sorted(truth(callrail_server, "companies"))
    assert any(c["status"] == "disabled" for c in companies)


def test_a_sort_the_server_ignores_is_said_and_skips_nothing(callrail_server, callrail_config):
    """Whether CallRail honours order=asc under relative pagination is unverified: if not,
    the calls come newest first, a warning says so, and the bookmark stays behind."""
    callrail_server.honour_sort = False
    run = run_tap("tap-callrail", callrail_config)
    assert run.returncode == 0, run.stderr[-2000:]
    assert "CallRail returned calls out of start_time order" in run.stderr
    assert sorted(c["id"] for c in run.records("calls")) == sorted(truth(callrail_server, "calls"))
    newest = max(c["start_time"] for c in run.records("calls"))
    partitions = run.final_state["bookmarks"]["calls"]["partitions"]
    assert all(p["replication_key_value"] <= newest for p in partitions)


def test_the_former_default_phone_region_is_read_as_default_region(
    callrail_server, callrail_config
):
    run = run_tap("tap-callrail", {**callrail_config, "default_phone_region": "GB"})
    assert run.returncode == 0, run.stderr
    assert "default_phone_region is deprecated: it was read as default_region" in run.stderr
    # Read in Great Britain, a US number written without +1 is no US number.
    calls = [c for c in run.records("calls") if c["customer_phone_number"].startswith("(")]
    read_as_us = [c for c in calls if (c["customer_phone_number_e164"] or "").startswith("+1")]
    assert calls and not read_as_us


def test_callrail_contacts_are_normalised_like_every_tap(callrail_server, callrail_config):
    run = run_tap("tap-callrail", callrail_config)
    phones = ("customer_phone_number", "tracking_phone_number")
    emails = ("agent_email", "customer_email", "email")
    for stream in ("calls", "form_submissions", "users"):
        assert assert_contacts_normalised(run.records(stream), phones, emails), stream
