"""suite_common.reconcile: what a pass sends, and when it sends nothing."""

from __future__ import annotations

import datetime
import io
import json
import typing as t
from contextlib import nullcontext, redirect_stdout

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from suite_common.reconcile import MAX_SCOPE_VALUES, ReadWindow, ReconciledStream, merged
from suite_common.sdk_adapter import StreamHooks


class RowSource(StreamHooks, Stream):
    """Five rows; with `fail_after`, the read breaks after that many."""

    name = "rows"
    primary_keys = ("id",)
    schema = th.PropertiesList(th.Property("id", th.IntegerType)).to_dict()
    fail_after: int | None = None

    def get_records(self, context: t.Any) -> t.Iterable[dict]:
        for number in range(5):
            if number == self.fail_after:
                raise ConnectionError("the source went away")
            yield {"id": number}


class Rows(ReconciledStream, RowSource):
    """The mixin first, before the class that defines get_records."""

    def read_window(self, context: t.Any) -> ReadWindow | None:
        return ReadWindow.whole()


class Source(Tap):
    name = "tap-rows"
    config_jsonschema = th.PropertiesList(
        th.Property("reconcile", th.BooleanType),
        th.Property("max_records", th.IntegerType),
        th.Property("stream_maps", th.ObjectType()),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        return [Rows(self)]


def run(config: dict, fail_after: int | None = None) -> list[dict]:
    tap = Source(config=config)
    t.cast(Rows, tap.streams["rows"]).fail_after = fail_after
    out = io.StringIO()
    with redirect_stdout(out), pytest.raises(ConnectionError) if fail_after else nullcontext():
        tap.sync_all()
    return [json.loads(line) for line in out.getvalue().splitlines()]


def reconcile(messages: list[dict]) -> list[str]:
    return [m["phase"] for m in messages if m["type"] == "RECONCILE"]


def test_a_finished_read_is_framed_by_begin_and_end():
    messages = run({"reconcile": True})
    kinds = [m["type"] for m in messages if m["type"] != "STATE"]
    assert kinds == ["SCHEMA", "RECONCILE", *["RECORD"] * 5, "RECONCILE"]
    end = next(m for m in messages if m.get("phase") == "end")
    assert end == {"type": "RECONCILE", "stream": "rows", "phase": "end", "whole_table": True}


def test_a_read_that_breaks_sends_no_end():
    assert reconcile(run({"reconcile": True}, fail_after=3)) == ["begin"]


@pytest.mark.parametrize(
    ("stream_map", "reconciled"),
    [
        ({"label": "str(id)"}, True),  # a property added: harmless
        ({"id": "id * 2"}, False),  # the key changed
        ({"__filter__": "id > 1"}, False),  # records dropped
        ({"__alias__": "other"}, False),
        (None, True),
    ],
)
def test_only_stream_maps_that_touch_what_the_target_compares_stop_the_pass(stream_map, reconciled):
    maps = {"rows": stream_map} if stream_map is not None else {}
    phases = reconcile(run({"reconcile": True, "stream_maps": maps}))
    assert ("end" in phases) is reconciled


def test_capped_reads_and_runs_without_the_switch_send_nothing():
    assert reconcile(run({"reconcile": True, "max_records": 2})) == []
    assert reconcile(run({})) == []


def test_child_scopes_merge_into_lists_and_whole_tables_into_one():
    per_task = [ReadWindow.within(task_id=f"T{n}", kind=["x"]) for n in range(MAX_SCOPE_VALUES + 5)]
    found = merged([*per_task, ReadWindow.whole(), ReadWindow.whole()])
    assert found[0] == ReadWindow.whole() and len(found) == 3
    assert [len(w.scope["task_id"]) for w in found[1:]] == [MAX_SCOPE_VALUES, 5]
    assert all(w.scope["kind"] == ["x"] for w in found[1:])
    alone = merged([ReadWindow.within(unscheduled=True)])
    assert alone == [ReadWindow.within(unscheduled=True)]


def test_a_window_end_is_a_day_inside_the_read():
    start = datetime.datetime(2026, 1, 1, tzinfo=datetime.timezone.utc)
    end = datetime.datetime(2026, 3, 1, 12, tzinfo=datetime.timezone.utc)
    message = ReadWindow("start_time", start, end, {"account_id": "A"}).message("calls")
    assert message.window == {
        "property": "start_time",
        "from": "2026-01-02T00:00:00+00:00",
        "to": "2026-02-28T12:00:00+00:00",
    }
    assert message.to_dict()["scope"] == {"account_id": "A"}
    assert "whole_table" not in message.to_dict()
