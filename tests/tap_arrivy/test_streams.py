"""Every Arrivy stream against the stand-in over real HTTP: the records equal the truth."""

import datetime

import pytest
import requests

from sandbox.arrivy import ArrivyStandIn
from tests.support.contact_truth import assert_contacts_normalised
from tests.support.singer_run import run_tap
from tests.tap_arrivy.conftest import utc

pytestmark = pytest.mark.stand_in


def ids(records):
    return [r["id"] for r in records]


def test_every_stream_equals_the_stand_in(arrivy_server, arrivy_config):
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 0, run.stderr
    scheduled = {str(t["id"]) for t in arrivy_server.tasks.live_records()}
    unscheduled = {str(t["id"]) for t in arrivy_server.unscheduled.live_records()}
    tasks = ids(run.records("tasks"))
    assert len(tasks) == len(set(tasks)) and set(tasks) == scheduled | unscheduled
    for stream, collection in (
        ("customers", arrivy_server.customers),
        ("entities", arrivy_server.entities),
        ("groups", arrivy_server.groups),
    ):
        assert sorted(ids(run.records(stream))) == sorted(
            str(r["id"]) for r in collection.live_records()
        )
    statuses = run.records("task_statuses")
    expected = sum(len(arrivy_server.statuses_of(t)) for t in arrivy_server.tasks.live_records())
    expected += sum(
        len(arrivy_server.statuses_of(t)) for t in arrivy_server.unscheduled.live_records()
    )
    assert len(statuses) == len({s["id"] for s in statuses}) == expected
    readings = run.records("entity_readings")
    assert len(readings) == arrivy_server.entities.size * (arrivy_server._last_reading_number() + 1)
    definitions = run.records("statuses")
    assert len(definitions) == len({d["id"] for d in definitions}) == 28
    assert [r.query for r in arrivy_server.requests if r.path == "/api/statuses"] == [{}]


def test_ids_are_strings_and_datetimes_utc_with_offset(arrivy_server, arrivy_config):
    run = run_tap("tap-arrivy", arrivy_config)
    task = run.records("tasks")[0]
    assert isinstance(task["id"], str) and all(isinstance(e, str) for e in task["entity_ids"])
    assert isinstance(task["customer_id"], str)
    for record in run.records("tasks") + run.records("customers"):
        for field in ("created", "updated"):
            assert record[field].endswith("+00:00"), record[field]
    source = {str(t["id"]): t for t in arrivy_server.tasks.live_records()}
    for record in run.records("tasks"):
        if record["id"] in source:
            original = source[record["id"]]
            assert utc(record["updated"]) == utc(original["updated"]), "same instant"
            assert (
                record["start_datetime_original_iso_str"]
                == original["start_datetime_original_iso_str"]
            )
    schema = run.schema("tasks")["schema"]["properties"]
    assert schema["id"]["type"] == "string" and schema["updated"]["format"] == "date-time"


def test_customers_and_entities_come_before_tasks(arrivy_config, arrivy_server):
    run = run_tap("tap-arrivy", arrivy_config)
    order = [m["stream"] for m in run.messages if m["type"] == "RECORD"]
    assert order.index("customers") < order.index("tasks")
    assert order.index("entities") < order.index("tasks")


def test_schedule_window_edges(arrivy_server, arrivy_config):
    index = 100
    moment = arrivy_server.task_start(index)
    arrivy_config |= {
        "start_date": moment.isoformat(),
        "end_date": moment.isoformat(),
        "include_unscheduled": False,
    }
    run = run_tap("tap-arrivy", arrivy_config)
    assert ids(run.records("tasks")) == [str(arrivy_server.tasks.record(index)["id"])]


def test_future_bookings_come_within_future_days(arrivy_server, arrivy_config):
    arrivy_config |= {"future_days": 10, "include_unscheduled": False}
    run = run_tap("tap-arrivy", arrivy_config, select=["tasks"])
    latest = max(utc(t["start_datetime"]) for t in run.records("tasks"))
    assert arrivy_server.now < latest <= arrivy_server.now + datetime.timedelta(days=10, minutes=5)


def test_wrapped_list_shape():
    server = ArrivyStandIn(tasks=50, wrap_lists=True).start()
    try:
        config = {
            "auth_key": "sandbox-arrivy-key",
            "auth_token": "sandbox-arrivy-token",
            "api_url": f"{server.url}/api",
            "requests_per_minute": 100000,
            "start_date": "2020-01-01T00:00:00+00:00",
        }
        run = run_tap("tap-arrivy", config, select=["tasks", "groups"])
        assert run.returncode == 0, run.stderr
        assert len(run.records("tasks")) == 50 + 5
        assert len(run.records("groups")) == 3
    finally:
        server.stop()


def test_small_pages_go_on_to_an_empty_page(arrivy_server, arrivy_config):
    arrivy_config |= {"page_size": 7}
    run = run_tap("tap-arrivy", arrivy_config, select=["customers"])
    assert len(run.records("customers")) == arrivy_server.customers.size
    pages = [r for r in arrivy_server.requests if r.path == "/api/customers"]
    assert len(pages) == arrivy_server.customers.size // 7 + 2, "up to an empty page"


def test_connection_test_reports_the_account(arrivy_server, arrivy_config):
    run = run_tap("tap-arrivy", arrivy_config, "--test")
    assert run.returncode == 0, run.stderr
    assert "The credentials work: account 5100000000000001" in run.stderr
    checks = [r for r in arrivy_server.requests if r.path == "/api/customers"]
    assert [r.query["page_size"] for r in checks] == [["1"]]


def test_bad_credentials_are_one_line_without_the_secret(arrivy_config):
    arrivy_config["auth_token"] = "canary-token-5521"
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 1
    (line,) = run.error_lines("tap-arrivy")
    assert "refused the auth key or token (401" in line and "auth_token" in line
    assert "canary-token-5521" not in run.stderr and "Traceback" not in run.stderr


def test_mutate_then_delta_emits_only_changes(arrivy_server, arrivy_config):
    first = run_tap("tap-arrivy", arrivy_config)
    changes = requests.post(f"{arrivy_server.url}/_sandbox/mutate", json={}, timeout=10).json()
    second = run_tap("tap-arrivy", arrivy_config, state=first.final_state)
    assert second.returncode == 0, second.stderr
    changed = {
        str(arrivy_server.tasks.record(i)["id"])
        for i in changes["tasks"]["updated"] + changes["tasks"]["created"]
    }
    touched = changes["unscheduled"]["updated"] + changes["unscheduled"]["created"]
    changed |= {str(arrivy_server.unscheduled.record(i)["id"]) for i in touched}
    emitted = set(ids(second.records("tasks")))
    assert changed <= emitted
    assert len(emitted) <= len(changed) + 2, "only changed tasks (plus the >= bookmark ones)"
    statuses = {s["task_id"] for s in second.records("task_statuses")}
    assert statuses <= emitted


def test_delta_does_not_rely_on_updated_after(arrivy_server, arrivy_config):
    first = run_tap("tap-arrivy", arrivy_config)
    requests.post(f"{arrivy_server.url}/_sandbox/mutate", json={}, timeout=10)
    honoured = run_tap("tap-arrivy", arrivy_config, state=first.final_state)
    arrivy_server.honour_updated_after = False
    ignored = run_tap("tap-arrivy", arrivy_config, state=first.final_state)
    assert sorted(ids(ignored.records("tasks"))) == sorted(ids(honoured.records("tasks")))
    assert sorted(ids(ignored.records("customers"))) == sorted(ids(honoured.records("customers")))


def test_phones_and_emails_get_normalised_siblings(arrivy_server, arrivy_config):
    run = run_tap("tap-arrivy", arrivy_config)
    assert run.returncode == 0, run.stderr
    phones = ("phone", "mobile_number", "customer_phone", "customer_mobile_number")
    emails = ("email", "customer_email")
    for stream in ("customers", "entities", "groups", "tasks"):
        assert assert_contacts_normalised(run.records(stream), phones, emails), stream
        properties = run.schema(stream)["schema"]["properties"]
        assert all(f"{f}_e164" in properties for f in phones if f in properties), stream
    entity_phones = [e for e in run.records("entities") if e["phone"]]
    read = [e for e in entity_phones if e["phone_e164"]]
    assert read and all(e["phone_e164"] == f"+{e['phone']}" for e in read)
    assert "Data quality, customers:" in run.stderr
