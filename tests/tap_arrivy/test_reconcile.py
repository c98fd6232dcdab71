"""A reconciliation pass reads every task of the window and of the unscheduled set, whatever
their `updated`, and ends both only after both passes."""

import datetime

from tests.support.singer_run import run_tap
from tests.tap_arrivy.conftest import utc


def reconcile_messages(run):
    return [m for m in run.messages if m["type"] == "RECONCILE"]


def test_every_task_of_the_window_comes_despite_the_bookmark(arrivy_server, arrivy_config):
    first = run_tap("tap-arrivy", arrivy_config, select=["tasks"])
    arrivy_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-arrivy", arrivy_config, state=first.final_state, select=["tasks"])
    assert run.returncode == 0, run.stderr
    since = arrivy_server.now - datetime.timedelta(days=59)
    expected = {
        str(task["id"])
        for task in arrivy_server.tasks.live_records()
        if utc(task["start_datetime"]) >= since
    }
    expected |= {str(task["id"]) for task in arrivy_server.unscheduled.live_records()}
    assert expected <= {t["id"] for t in run.records("tasks")}
    assert not any(
        "updated_after" in r.query for r in arrivy_server.requests if r.path == "/api/tasks"
    )


def test_both_ends_come_after_both_passes(arrivy_server, arrivy_config):
    arrivy_config |= {"reconcile": True, "reconcile_days": 60}
    run = run_tap("tap-arrivy", arrivy_config, select=["tasks"])
    assert run.returncode == 0, run.stderr
    found = reconcile_messages(run)
    assert [m["phase"] for m in found] == ["begin", "end", "end"]
    scheduled, unscheduled = found[1], found[2]
    last_task = max(i for i, m in enumerate(run.messages) if m["type"] == "RECORD")
    assert run.messages.index(scheduled) > last_task
    assert scheduled["window"]["property"] == "start_datetime"
    assert utc(scheduled["window"]["from"]) >= arrivy_server.now - datetime.timedelta(
        days=59, hours=1
    )
    assert utc(scheduled["window"]["to"]) > arrivy_server.now + datetime.timedelta(days=88)
    assert unscheduled["scope"] == {"unscheduled": True} and "window" not in unscheduled


def test_no_end_when_a_pass_is_capped(arrivy_server, arrivy_config):
    arrivy_config |= {"reconcile": True, "reconcile_days": 60, "max_pages": 1, "page_size": 20}
    run = run_tap("tap-arrivy", arrivy_config, select=["tasks"])
    assert run.returncode == 0, run.stderr
    assert reconcile_messages(run) == []


WHOLE_LISTS = ["groups", "statuses", "customers", "entities"]


def test_the_small_lists_are_read_whole_and_reconciled_whole(arrivy_server, arrivy_config):
    """Customers follow `updated` in a delta; the pass reads every one of them."""
    first = run_tap("tap-arrivy", arrivy_config, select=WHOLE_LISTS)
    arrivy_config["reconcile"] = True
    run = run_tap("tap-arrivy", arrivy_config, state=first.final_state, select=WHOLE_LISTS)
    assert run.returncode == 0, run.stderr
    for stream in WHOLE_LISTS:
        found = [m for m in reconcile_messages(run) if m["stream"] == stream]
        assert [m["phase"] for m in found] == ["begin", "end"], stream
        assert found[1]["whole_table"] is True
    every_customer = {str(c["id"]) for c in arrivy_server.customers.live_records()}
    assert {c["id"] for c in run.records("customers")} == every_customer


def test_each_tasks_status_history_is_scoped_to_its_task(arrivy_server, arrivy_config):
    arrivy_config |= {"reconcile": True, "reconcile_days": 10}
    run = run_tap("tap-arrivy", arrivy_config, select=["tasks", "task_statuses"])
    assert run.returncode == 0, run.stderr
    found = [m for m in reconcile_messages(run) if m["stream"] == "task_statuses"]
    scoped = [task for m in found if m["phase"] == "end" for task in m["scope"]["task_id"]]
    assert sorted(scoped) == sorted(t["id"] for t in run.records("tasks"))
    last_record = max(i for i, m in enumerate(run.messages) if m["type"] == "RECORD")
    assert all(run.messages.index(m) > last_record for m in found if m["phase"] == "end")
    readings = run_tap("tap-arrivy", arrivy_config, select=["entities", "entity_readings"])
    assert not [m for m in reconcile_messages(readings) if m["stream"] == "entity_readings"]
