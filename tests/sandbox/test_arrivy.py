"""The Arrivy stand-in behaves as documented, checked with plain HTTP requests."""

import datetime

import requests

from sandbox.arrivy import ArrivyStandIn

AUTH = {"X-Auth-Key": "sandbox-arrivy-key", "X-Auth-Token": "sandbox-arrivy-token"}


def get(server, path, **params):
    return requests.get(f"{server.url}/api{path}", headers=AUTH, params=params, timeout=10)


def parse(text):
    moment = datetime.datetime.fromisoformat(text)
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.timezone.utc)


def all_pages(server, path, per_page, **params):
    records, page = [], 1
    while True:
        batch = get(server, path, page=page, items_per_page=per_page, **params).json()
        records += batch
        if not batch:
            return records
        page += 1


def test_both_auth_headers_are_required(arrivy_server):
    assert get(arrivy_server, "/users/profile").status_code == 200
    only_key = requests.get(
        f"{arrivy_server.url}/api/tasks", headers={"X-Auth-Key": "sandbox-arrivy-key"}
    )
    assert only_key.status_code == 401 and only_key.json()["code"] == "UNAUTHORIZED"


def test_lists_are_bare_arrays_with_page_and_items_per_page(arrivy_server):
    first = get(arrivy_server, "/customers", items_per_page=40).json()
    assert isinstance(first, list) and len(first) == 40
    ignored = get(arrivy_server, "/customers", page_size=5).json()
    assert len(ignored) == 150, "page_size is ignored; the default page is 500"
    everything = all_pages(arrivy_server, "/customers", 40)
    assert len({c["id"] for c in everything}) == 150


def test_wrapped_list_variant():
    server = ArrivyStandIn(tasks=20, wrap_lists=True).start()
    try:
        body = get(server, "/groups").json()
        assert set(body) == {"results", "has_next"} and body["has_next"] is False
    finally:
        server.stop()


def test_tasks_select_on_the_scheduled_window_and_unscheduled_are_separate(arrivy_server):
    now = arrivy_server.now
    start, end = now - datetime.timedelta(days=10), now + datetime.timedelta(days=5)
    tasks = all_pages(
        arrivy_server, "/tasks", 100, **{"from": start.isoformat(), "to": end.isoformat()}
    )
    assert tasks and all(start <= parse(t["start_datetime"]) <= end for t in tasks)
    assert not any(t["unscheduled"] for t in tasks)
    scheduled_ids = {t["id"] for t in all_pages(arrivy_server, "/tasks", 500)}
    unscheduled = get(arrivy_server, "/tasks", unscheduled="true").json()
    assert unscheduled and all(t["start_datetime"] is None for t in unscheduled)
    assert not scheduled_ids & {t["id"] for t in unscheduled}


def test_datetimes_are_utc_some_without_offset_and_ids_are_large(arrivy_server):
    tasks = get(arrivy_server, "/tasks").json()
    stamps = [t["created"] for t in tasks]
    assert any(parse(s) and "+" not in s for s in stamps), "some stamps lack an offset"
    assert any("+00:00" in s for s in stamps)
    assert all(2**52 < t["id"] < 2**53 for t in tasks)
    assert all(t["start_datetime_timezone"] == "America/Chicago" for t in tasks)


def test_statuses_and_readings_are_children(arrivy_server):
    tasks = get(arrivy_server, "/tasks").json()
    with_history = [t for t in tasks if get(arrivy_server, f"/tasks/{t['id']}/status").json()]
    assert with_history
    status = get(arrivy_server, f"/tasks/{with_history[0]['id']}/status").json()[0]
    assert status["type"] in {"NOTSTARTED", "CONFIRMED", "ENROUTE", "STARTED", "COMPLETE"}
    assert get(arrivy_server, "/tasks/1/status").status_code == 404
    entity = get(arrivy_server, "/entities").json()[0]
    since = arrivy_server.now - datetime.timedelta(hours=5)
    readings = get(
        arrivy_server, f"/entities/{entity['id']}/readings", time=since.isoformat()
    ).json()
    assert len(readings) == 9 and all(parse(r["time"]) > since for r in readings)


def test_updated_after_is_honoured_only_when_switched_on(arrivy_server):
    everything = len(all_pages(arrivy_server, "/tasks", 500))
    requests.post(f"{arrivy_server.url}/_sandbox/mutate", json={}, timeout=5)
    since = arrivy_server.now.isoformat()
    changed = get(arrivy_server, "/tasks", updated_after=since).json()
    assert 0 < len(changed) < everything
    arrivy_server.honour_updated_after = False
    assert len(all_pages(arrivy_server, "/tasks", 500, updated_after=since)) >= everything


def test_mutate_stamps_every_change_later_than_the_last(arrivy_server):
    before = max(parse(t["updated"]) for t in arrivy_server.tasks.live_records())
    changes = requests.post(f"{arrivy_server.url}/_sandbox/mutate", json={}, timeout=5).json()
    created = [arrivy_server.tasks.record(i) for i in changes["tasks"]["created"]]
    assert all(parse(t["updated"]) > before for t in created)
    updated = arrivy_server.tasks.record(changes["tasks"]["updated"][0])
    assert updated["status"] == "COMPLETE"
    assert get(arrivy_server, f"/tasks/{updated['id']}/status").json()[-1]["type"] == "COMPLETE"


def test_unknown_path_and_bad_parameter_errors(arrivy_server):
    missing = get(arrivy_server, "/nothing")
    assert missing.status_code == 404 and missing.json()["code"] == "NOT_FOUND"
    bad = get(arrivy_server, "/tasks", **{"from": "yesterday"})
    assert bad.status_code == 400 and "from" in bad.json()["message"]


def test_values_as_the_old_sync_met_them(arrivy_server):
    """Source: Shahram4wd/Data-Warehouse, ingestion/sync/arrivy/processors/base.py
    (`normalize_phone` takes the entity phone as a number), models/arrivy.py (mileage an
    array, "Array in API"); a reading's meta came as ""."""
    entities = get(arrivy_server, "/entities").json()
    phones = [e["phone"] for e in entities if e["phone"] is not None]
    assert phones and all(isinstance(phone, int) for phone in phones)
    entity = entities[0]["id"]
    readings = get(arrivy_server, f"/entities/{entity}/readings").json()
    assert "" in [r["meta"] for r in readings] and any(
        isinstance(r["meta"], dict) for r in readings
    )
    tasks = get(arrivy_server, "/tasks", **{"from": "2020-01-01T00:00:00+00:00"}).json()
    assert all(isinstance(task["mileage"], list) for task in tasks)


def test_datetime_parameters_in_the_old_clients_form_only(arrivy_server):
    """Source: Data-Warehouse clients/tasks.py (`%Y-%m-%dT%H:%M:%S+00:00`) and
    clients/bookings.py (`…Z`); fractions of a second are refused here (unknown upstream)."""
    for good in ("2026-01-01T00:00:00+00:00", "2026-01-01T00:00:00Z"):
        assert get(arrivy_server, "/tasks", **{"from": good}).status_code == 200
    for bad in ("2026-01-01T00:00:00.123456+00:00", "2026-01-01"):
        answer = get(arrivy_server, "/tasks", **{"from": bad})
        assert answer.status_code == 400 and answer.json()["code"] == "INVALID_INPUT"


def test_a_page_is_capped_whatever_items_per_page_asks(arrivy_server):
    """Source: Data-Warehouse clients/base.py `fetch_paginated_data`: the server ignored the
    page size asked for; a page shorter than asked is not the last."""
    first = get(arrivy_server, "/tasks", items_per_page=500).json()
    assert len(first) == arrivy_server.max_items_per_page == 200
    arrivy_server.max_items_per_page = 40
    pages = [get(arrivy_server, "/customers", items_per_page=100, page=n).json() for n in (1, 4)]
    assert [len(page) for page in pages] == [40, 30]


def test_a_deleted_record_leaves_every_list_and_a_removed_report_its_task(arrivy_server):
    """Deletion at the source, as a reconciliation pass must see it: gone from the list."""

    def listed(path):  # status definitions come at once, whatever the paging
        if path == "/statuses":
            return [r["id"] for r in get(arrivy_server, path).json()]
        return [r["id"] for r in all_pages(arrivy_server, path, 500)]

    for path, collection in (
        ("/groups", arrivy_server.groups),
        ("/statuses", arrivy_server.statuses),
        ("/entities", arrivy_server.entities),
        ("/customers", arrivy_server.customers),
    ):
        before = listed(path)
        gone = collection.record(1)["id"]
        collection.deleted.append(1)
        after = listed(path)
        assert gone in before and after == [i for i in before if i != gone], path
    task = next(t for t in arrivy_server.tasks.live_records() if arrivy_server.statuses_of(t))
    report = arrivy_server.statuses_of(task)[0]["id"]
    arrivy_server.removed_status_reports.add(report)
    history = get(arrivy_server, f"/tasks/{task['id']}/status").json()
    assert report not in [r["id"] for r in history]
