"""The story the stand-ins share (sandbox/story.py), checked against the stand-ins alone over
HTTP and SQL: the same people in all three systems, their numbers spelled each system's way,
noise that cannot match them, and a known funnel."""

from __future__ import annotations

import datetime
import re
from collections import Counter

import pytest
import requests
import sqlalchemy as sa

from sandbox import genius, story
from sandbox.arrivy import ArrivyStandIn
from sandbox.callrail import CallRailStandIn
from tests.support.contact_truth import digits_e164, normalized

pytestmark = pytest.mark.stand_in

NOW = datetime.datetime(2026, 11, 20, 15, 42, tzinfo=datetime.timezone.utc)
CALLRAIL_KEY = {"Authorization": 'Token token="sandbox-callrail-key"'}
ARRIVY_KEY = {"X-Auth-Key": "sandbox-arrivy-key", "X-Auth-Token": "sandbox-arrivy-token"}


def account_calls(server: CallRailStandIn, account: str) -> list[dict]:
    calls, page = [], 1
    while True:
        body = requests.get(
            f"{server.url}/v3/a/{account}/calls.json",
            headers=CALLRAIL_KEY,
            params={"start_date": "2026-01-01", "per_page": 250, "page": page},
            timeout=10,
        ).json()
        calls += body["calls"]
        if page >= body["total_pages"]:
            return calls
        page += 1


def is_story_number(number: object) -> bool:
    """Exchange 555: the story's, and only the story's."""
    e164 = digits_e164(number)
    return e164 is not None and e164[5:8] == "555"


def test_one_person_is_spelled_three_ways_and_is_one_number(mariadb_server):
    callrail = CallRailStandIn(now=NOW).start()
    arrivy = ArrivyStandIn(now=NOW).start()
    engine = sa.create_engine(mariadb_server.url)
    try:
        genius.seed(engine, appointments=60, now=NOW)
        person = 0  # the first "phone" case: a call, a prospect, a job
        call_id = callrail.story_call_ids()[person]
        account = next(
            a for a in callrail.accounts.values() if call_id.startswith(f"CAL{a.number:02d}")
        )
        call = next(c for c in account_calls(callrail, account.id) if c["id"] == call_id)
        with engine.connect() as connection:
            phone1 = connection.execute(
                sa.text("SELECT phone1 FROM prospect WHERE id = :id"),
                {"id": story.FIRST_GENIUS_ID},
            ).scalar()
        task_id, _ = arrivy.task_placements()[(person, 0)]
        tasks = requests.get(f"{arrivy.url}/api/tasks", headers=ARRIVY_KEY, timeout=10).json()
        task = next(t for t in tasks if t["id"] == task_id)
        spellings = {call["customer_phone_number"], phone1, task["customer_phone"]}
        assert len(spellings) == 3, spellings  # +1303…, (303) …-…, 303.….…
        assert {digits_e164(s) for s in spellings} == {"+13035550000"}
        assert re.fullmatch(r"\+1\d{10}", call["customer_phone_number"])
        assert re.fullmatch(r"\(\d{3}\) \d{3}-\d{4}", phone1)
        assert re.fullmatch(r"\d{3}\.\d{3}\.\d{4}", task["customer_phone"])
        assert task["status"] == "COMPLETE"
    finally:
        callrail.stop()
        arrivy.stop()


def test_story_calls_sit_at_their_moment_in_time_order():
    server = CallRailStandIn(now=NOW)
    told = {call.person: call for call in server.story.calls}
    assert len(server.story_call_ids()) == story.DEFAULT_PEOPLE
    for account in server.accounts.values():
        times = [account.call_time(index) for index in range(account.calls.size)]
        assert times == sorted(times) and len(set(times)) == len(times)
        for index, call in account.story_calls.items():
            assert account.call_time(index) == told[call.person].at
            assert account.calls.record(index)["person_id"] == call.person_id


def test_noise_never_uses_the_story_numbers_or_domain(mariadb_server):
    callrail = CallRailStandIn(now=NOW, calls_per_account=2000)
    arrivy = ArrivyStandIn(now=NOW, tasks=2000)
    story_calls = set(callrail.story_call_ids().values())
    for account in callrail.accounts.values():
        for call in account.calls.live_records():
            assert is_story_number(call["customer_phone_number"]) == (call["id"] in story_calls)
        for form in account.forms.live_records():
            assert (story.DOMAIN in form["customer_email"].lower()) == (
                form["person_id"].startswith("PERSTORY")
            )
    story_tasks = {task_id for task_id, _ in arrivy.task_placements().values()}
    for task in arrivy.tasks.live_records():
        told = is_story_number(task["customer_phone"]) or task["customer_email"] is not None
        assert told == (task["id"] in story_tasks)
    assert not any(is_story_number(c["phone"]) for c in arrivy.customers.live_records())
    engine = sa.create_engine(mariadb_server.url)
    genius.seed(engine, appointments=3000, now=NOW)
    with engine.connect() as connection:
        prospects = connection.execute(sa.text("SELECT id, phone1, phone2, email FROM prospect"))
        for row in prospects:
            told = row.id >= story.FIRST_GENIUS_ID
            phones = [row.phone1, row.phone2]
            if not told:
                assert not any(is_story_number(p) for p in phones), row
                assert story.DOMAIN not in (row.email or "").lower(), row


def test_noise_prospects_are_older_than_any_call_window(mariadb_server):
    """No generated prospect was created within 30 days before the first call: the noise
    cannot become a match, whatever its numbers."""
    engine = sa.create_engine(mariadb_server.url)
    genius.seed(engine, appointments=3000, now=NOW)
    first_call = next(iter(CallRailStandIn(now=NOW).accounts.values())).call_time(0)
    with engine.connect() as connection:
        newest = connection.execute(
            sa.text(f"SELECT max(add_date) FROM prospect WHERE id < {story.FIRST_GENIUS_ID}")
        ).scalar()
    assert newest.replace(tzinfo=datetime.timezone.utc) < first_call - datetime.timedelta(days=31)


def test_mutations_leave_the_story_alone(mariadb_server):
    callrail = CallRailStandIn(now=NOW, calls_per_account=60)
    arrivy = ArrivyStandIn(now=NOW, tasks=60)
    before = {
        account.id: [account.calls.record(i) for i in account.story_calls]
        for account in callrail.accounts.values()
    }
    tasks_before = [arrivy.tasks.record(i) for i in arrivy.story_tasks]
    for _ in range(20):
        callrail.mutate({"updates": 30, "deletes": 10, "creates": 1})
        arrivy.mutate({"updates": 30, "deletes": 10, "creates": 1})
    for account in callrail.accounts.values():
        assert [account.calls.record(i) for i in account.story_calls] == before[account.id]
    assert [arrivy.tasks.record(i) for i in arrivy.story_tasks] == tasks_before
    engine = sa.create_engine(mariadb_server.url)
    genius.seed(engine, appointments=30, now=NOW)
    query = sa.text(f"SELECT * FROM prospect WHERE id >= {story.FIRST_GENIUS_ID} ORDER BY id")
    with engine.connect() as connection:
        prospects = connection.execute(query).all()
    for round_number in range(1, 6):
        genius.mutate(engine, round_number=round_number)
    with engine.connect() as connection:
        assert connection.execute(query).all() == prospects
        stray = connection.execute(
            sa.text("SELECT count(*) FROM appointment WHERE prospect_id >= :first AND id < :first"),
            {"first": story.FIRST_GENIUS_ID},
        ).scalar()
    assert stray == 0, "generated appointments never point at a story prospect"


def test_the_expected_funnel_covers_every_rule():
    callrail = CallRailStandIn(now=NOW)
    arrivy = ArrivyStandIn(now=NOW)
    funnel = callrail.story.expected_funnel(callrail.story_call_ids(), arrivy.task_placements())
    assert len(funnel) == story.DEFAULT_PEOPLE
    by_case = Counter((row["case"], row["matched_on"]) for row in funnel.values())
    assert by_case == Counter(
        {
            (
                case,
                None
                if case in ("early", "late", "near_miss")
                else "email"
                if case == "email"
                else "phone",
            ): story.DEFAULT_PEOPLE // len(story.CASES)
            for case in story.CASES
        }
    )
    prospects: dict[int, list[int]] = {}
    for prospect in callrail.story.prospects:
        prospects.setdefault(prospect.person, []).append(prospect.id)
    for row in funnel.values():
        if row["case"] == "twins":  # the nearer in time, though its id is higher
            assert row["prospect_id"] == max(prospects[row["person"]])
        if row["case"] == "tie":  # created at the same moment: the lower id
            assert row["prospect_id"] == min(prospects[row["person"]])
    repeat = [row for row in funnel.values() if row["case"] == "repeat"]
    assert all(row["is_sold"] is False and row["seconds_to_task"] > 0 for row in repeat)
    assert {row["is_sold"] for row in funnel.values() if row["appointment_id"]} == {True, False}


def test_an_email_match_goes_through_a_form_with_the_callers_person_id():
    callrail = CallRailStandIn(now=NOW)
    emails = {form.person_id: form.email for form in callrail.story.forms}
    prospects = {p.person: p for p in callrail.story.prospects}
    for account in callrail.accounts.values():
        for index, call in account.story_calls.items():
            if call.person_id in emails:
                record = account.calls.record(index)
                assert record["person_id"] == call.person_id
                form_email = emails[call.person_id]
                assert form_email != form_email.lower(), "mixed case, as people type it"
                assert normalized(form_email) == normalized(prospects[call.person].email)
                assert digits_e164(record["customer_phone_number"]) not in {
                    digits_e164(p.phone1) for p in callrail.story.prospects
                }
