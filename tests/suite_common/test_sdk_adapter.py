"""suite_common.sdk_adapter: the singer-sdk internals the taps rely on are still there,
the SDK still calls the forwarded hooks, and a changed one is refused in one line."""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

import pytest
from singer_sdk import Stream, Tap
from singer_sdk import typing as th
from singer_sdk.plugin_base import PluginBase
from singer_sdk.streams import RESTStream
from suite_common.cli import run_cli
from suite_common.sdk_adapter import (
    SDK_INTERNALS,
    Internal,
    SdkChangedError,
    StreamHooks,
    check_sdk_internals,
    mutable_config,
    tap_of,
)
from tap_callrail.tap import TapCallRail


class Numbers(StreamHooks, Stream):
    """Three records with an `n` bookmark; each forwarded hook notes that it was called."""

    name = "numbers"
    primary_keys = ("n",)
    replication_key = "n"
    schema = th.PropertiesList(th.Property("n", th.IntegerType)).to_dict()

    def __init__(self, tap: Tap) -> None:
        super().__init__(tap)
        self.calls: list[str] = []

    def get_records(self, context):
        yield from ({"n": n} for n in (1, 2, 3))

    def write_schema_message(self) -> None:
        self.calls.append("schema")
        super().write_schema_message()

    def record_messages(self, record):
        self.calls.append(f"record {record['n']}")
        return super().record_messages(record)

    def advance_bookmark(self, latest_record, *, context=None) -> None:
        self.calls.append(f"bookmark {latest_record['n']}")
        super().advance_bookmark(latest_record, context=context)


class NumbersTap(Tap):
    name = "tap-numbers"
    config_jsonschema = th.PropertiesList().to_dict()

    def discover_streams(self):
        return [Numbers(self)]


def sync_numbers() -> tuple[Numbers, list[dict]]:
    tap = NumbersTap(config={})
    out = io.StringIO()
    with redirect_stdout(out):
        tap.sync_all()
    messages = [json.loads(line) for line in out.getvalue().splitlines()]
    return tap.streams["numbers"], messages


def test_every_method_relied_on_is_in_the_installed_sdk():
    check_sdk_internals(SDK_INTERNALS, "suite-common")


def test_every_attribute_relied_on_is_set_on_live_objects():
    tap = TapCallRail(config={"api_key": "k"})
    stream = tap.streams["calls"]
    live = {Stream: stream, RESTStream: stream, PluginBase: tap}
    attributes = [item for item in SDK_INTERNALS if item.parameters is None]
    assert attributes
    assert [item.problem(live[item.owner]) for item in attributes] == [None] * len(attributes)


def test_the_sdk_still_calls_each_forwarded_hook_in_a_sync():
    stream, messages = sync_numbers()
    assert stream.calls == [
        "schema",
        *(f"{step} {n}" for n in (1, 2, 3) for step in ("record", "bookmark")),
    ]
    assert [m["record"]["n"] for m in messages if m["type"] == "RECORD"] == [1, 2, 3]
    state = [m["value"] for m in messages if m["type"] == "STATE"][-1]
    assert state["bookmarks"]["numbers"]["replication_key_value"] == 3


def test_the_stream_version_and_tap_are_the_sdks():
    stream, messages = sync_numbers()
    assert isinstance(tap_of(stream), NumbersTap)
    record = next(m for m in messages if m["type"] == "RECORD")
    assert stream.stream_version == record.get("version")


def test_the_config_behind_the_read_only_view_can_be_changed():
    tap = TapCallRail(config={"api_key": "k"})
    mutable_config(tap)["page_size"] = 11
    assert tap.config["page_size"] == 11


def test_a_renamed_method_or_a_changed_signature_is_named():
    changed = (
        Internal(Stream, "_renamed_in_a_new_release", ()),
        Internal(Stream, "_increment_stream_state", ("latest_record",)),
        Internal(Stream, "_generate_record_messages", ("record",)),
    )
    with pytest.raises(SdkChangedError) as refused:
        check_sdk_internals(changed, "tap-x")
    assert str(refused.value) == (
        "tap-x does not support this singer-sdk release "
        "(Stream._renamed_in_a_new_release is gone; "
        "Stream._increment_stream_state now takes ('latest_record', 'context'), "
        "not ('latest_record',))"
    )


def test_a_missing_attribute_is_named_on_a_live_object():
    assert Internal(Stream, "_gone").problem(object()) == "Stream._gone is gone"


def test_a_changed_sdk_ends_the_command_in_one_line(capsys, monkeypatch):
    monkeypatch.setattr("sys.argv", ["tap-x", "--about"])
    ran = []
    with pytest.raises(SystemExit) as ended:
        run_cli("tap-x", lambda: ran.append(1), [], sdk_internals=[Internal(Tap, "_gone", ())])
    assert ended.value.code == 1
    assert not ran
    assert capsys.readouterr().err == (
        "tap-x: error: tap-x does not support this singer-sdk release (Tap._gone is gone). "
        "Fix: install the singer-sdk version the plugin's pyproject pins\n"
    )
