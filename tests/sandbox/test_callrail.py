"""The CallRail stand-in behaves as documented, checked with plain HTTP requests."""

import datetime
import tracemalloc
from urllib.parse import parse_qs, urlsplit

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
    """DOC, Relative Pagination: `next_page` is a full URL to use unmodified, e.g.
    `…/v3/a/227799611/calls?…api_sort[][start_time]=desc…&offset=1&page=1&per_page=100
    &relative_pagination=true` (numeric account id, no `.json`); `offset` counts pages."""
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    body = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        relative_pagination="true",
        per_page=70,
        start_date=start,
    ).json()
    ids = [c["id"] for c in body["calls"]]
    numeric = str(callrail_server.accounts[account].numeric_id)
    pages = []
    while body["has_next_page"]:
        pages.append(urlsplit(body["next_page"]))
        body = requests.get(body["next_page"], headers=KEY, timeout=10).json()
        ids += [c["id"] for c in body["calls"]]
    assert "total_pages" not in body
    assert len(ids) == len(set(ids)) == 300
    assert all(page.path == f"/v3/a/{numeric}/calls" for page in pages)
    queries = [parse_qs(page.query) for page in pages]
    assert [q["offset"] for q in queries] == [["1"], ["2"], ["3"], ["4"]]
    assert all(q["api_sort[][start_time]"] == ["desc"] and q["page"] == ["1"] for q in queries)
    assert all("sort" not in q and q["start_date"] == [start] for q in queries)


def test_offset_is_a_page_index(callrail_server, account):
    """DOC: "the first page is offset=0 so to navigate to the 10th page … offset=9"."""
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    window = {"start_date": start, "relative_pagination": "true", "per_page": 50}
    second = get(callrail_server, f"/v3/a/{account}/calls.json", offset=1, **window).json()
    paged = get(callrail_server, f"/v3/a/{account}/calls.json", page=2, per_page=50,
                start_date=start).json()  # fmt: skip
    assert [c["id"] for c in second["calls"]] == [c["id"] for c in paged["calls"]]


def test_some_lists_cap_per_page_below_250(callrail_server, account):
    """DOC, Offset Pagination: "most endpoints support a maximum of 250"; here forms, texts
    and trackers are capped lower, and their totals still count every record."""
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    for path, key in (("form_submissions", "form_submissions"), ("trackers", "trackers")):
        body = get(
            callrail_server, f"/v3/a/{account}/{path}.json", per_page=250, start_date=start
        ).json()
        assert body["per_page"] < 250 and len(body[key]) == body["per_page"]
        assert body["total_pages"] > 1 and body["total_records"] > len(body[key])


def test_conversations_come_newest_first_whatever_the_sort(callrail_server, account):
    """DOC, Listing All Conversations: no sortable fields; "ordered by most recent message,
    newest first"."""
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    body = get(
        callrail_server,
        f"/v3/a/{account}/text-messages.json",
        start_date=start,
        sort="last_message_at",
        order="asc",
    ).json()
    times = [datetime.datetime.fromisoformat(c["last_message_at"]) for c in body["conversations"]]
    assert len(times) > 1 and times == sorted(times, reverse=True)
    assert "tracker_name" not in body["conversations"][0]
    assert body["conversations"][0]["recent_messages"][0]["direction"] in ("incoming", "outgoing")


def test_dates_are_read_in_time_zone_and_offsets_are_not_honoured(callrail_server, account):
    """DOC, Filtering Data by Date / Time Zones: dates are read in `time_zone` or the
    account's zone; DOC's examples carry no offset, and whether one is honoured is
    undocumented, so the stand-in ignores it."""
    moment = callrail_server.accounts[account].call_time(200).replace(microsecond=0)
    naive = moment.astimezone(datetime.timezone.utc).replace(tzinfo=None).isoformat()
    utc = get(
        callrail_server, f"/v3/a/{account}/calls.json", start_date=naive, time_zone="Etc/UTC"
    ).json()["total_records"]
    with_offset = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        start_date=moment.astimezone(datetime.timezone.utc).isoformat(),
    ).json()["total_records"]
    assert utc == 100
    assert with_offset < utc, "the offset was ignored: the window starts hours later"
    bad = get(callrail_server, f"/v3/a/{account}/calls.json", time_zone="Mars/Olympus")
    assert bad.status_code == 400


def test_fields_as_documented(callrail_server, account):
    """DOC response tables: agent_email, zip_code (an array), numeric_id and the form
    extras only through `fields`; users carry `companies` objects; tags `tag_level`."""
    start = (callrail_server.now - datetime.timedelta(days=100)).date().isoformat()
    calls = get(callrail_server, f"/v3/a/{account}/calls.json", start_date=start).json()["calls"]
    assert "agent_email" not in calls[0] and "zip_code" not in calls[0]
    rich = get(
        callrail_server,
        f"/v3/a/{account}/calls.json",
        start_date=start,
        fields="agent_email,zip_code,value",
    ).json()["calls"]
    assert isinstance(rich[0]["zip_code"], list) and "agent_email" in rich[0]
    assert all(c["value"] is None or isinstance(c["value"], int) for c in rich)
    accounts = get(callrail_server, "/v3/a.json").json()["accounts"]
    assert "numeric_id" not in accounts[0]
    assert (
        "numeric_id"
        in get(callrail_server, "/v3/a.json", fields="numeric_id").json()["accounts"][0]
    )
    forms = get(callrail_server, f"/v3/a/{account}/form_submissions.json", start_date=start)
    assert "form_name" not in forms.json()["form_submissions"][0]
    user = get(callrail_server, f"/v3/a/{account}/users.json").json()["users"][0]
    assert "company_ids" not in user and all({"id", "name"} <= set(c) for c in user["companies"])
    tag = get(callrail_server, f"/v3/a/{account}/tags.json").json()["tags"][0]
    assert {"tag_level", "background_color"} <= set(tag)


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


def test_no_dates_means_the_recent_window_and_old_dates_are_refused(callrail_server, account):
    """DOC: `recent` (previous 7 days including today) is the default date_range."""
    recent = get(callrail_server, f"/v3/a/{account}/calls.json").json()["total_records"]
    assert 0 < recent < 300 * 8 / 90 + 4
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
        callrail_server,
        f"/v3/a/{account}/calls.json",
        start_date=start,
        sort="start_time",
        order="asc",
        per_page=250,
    ).json()["calls"]
    times = [datetime.datetime.fromisoformat(c["start_time"]) for c in ascending]
    assert times == sorted(times)
    unsorted = get(  # DOC: `order` requires `sort`; the default is newest first
        callrail_server, f"/v3/a/{account}/calls.json", start_date=start, order="asc"
    ).json()["calls"]
    newest = [datetime.datetime.fromisoformat(c["start_time"]) for c in unsorted]
    assert newest == sorted(newest, reverse=True)
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


def test_company_id_filters_trackers_by_their_company_and_users_by_their_companies(
    callrail_server, account
):
    """DOC: trackers and users list `company_id` among their filters; a tracker names its
    company in `company`, a user its companies in `companies`."""
    company = callrail_server.accounts[account].company_id(1)
    every = get(callrail_server, f"/v3/a/{account}/trackers.json", per_page=250).json()
    theirs = get(
        callrail_server, f"/v3/a/{account}/trackers.json", company_id=company, per_page=250
    ).json()
    assert {t["company"]["id"] for t in every["trackers"]} > {company}
    assert theirs["trackers"] and {t["company"]["id"] for t in theirs["trackers"]} == {company}
    assert theirs["total_records"] == len(theirs["trackers"]) < every["total_records"]
    users = get(callrail_server, f"/v3/a/{account}/users.json", company_id=company).json()
    assert all(company in {c["id"] for c in u["companies"]} for u in users["users"])


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


def test_disabled_companies_only_when_asked_for(callrail_server, account):
    """DOC, Listing All Companies: `status` filters active or disabled; whether the list
    holds disabled companies unasked is undocumented, so here it does not."""
    requests.post(f"{callrail_server.url}/_sandbox/mutate", json={}, timeout=5)
    listed = get(callrail_server, f"/v3/a/{account}/companies.json").json()["companies"]
    disabled = get(callrail_server, f"/v3/a/{account}/companies.json", status="disabled").json()
    assert all(c["status"] == "active" for c in listed)
    assert disabled["companies"] and all(c["status"] == "disabled" for c in disabled["companies"])


def test_a_new_company_changes_no_existing_record(callrail_server, account):
    """Only `mutate`'s own changes change records: a company created later moves no form,
    conversation or tracker to another company (a reconciliation pass found 89 of 120
    forms "changed" when it did)."""
    lists = {
        "form_submissions": {"per_page": 250, "date_range": "all_time"},
        "text-messages": {"per_page": 250, "date_range": "all_time"},
        "trackers": {"per_page": 250},
    }

    def companies() -> dict[str, str]:
        found = {}
        for name, params in lists.items():
            body = get(callrail_server, f"/v3/a/{account}/{name}.json", **params).json()
            key = "conversations" if name == "text-messages" else name
            for record in body[key]:
                company = record.get("company_id") or record["company"]["id"]
                found[f"{name}:{record['id']}"] = company
        return found

    before = companies()
    requests.post(f"{callrail_server.url}/_sandbox/mutate", json={}, timeout=30)
    after = companies()
    assert {k: v for k, v in after.items() if k in before and before[k] != v} == {}
