"""target_warehouse.sdk_adapter: the singer-sdk internals the target relies on are still
there, and the SDK's listen loop still hands every message to the forwarded hooks.

No Postgres: a target with an in-memory sink stands for the warehouse target.
"""

from __future__ import annotations

import io
import json
from contextlib import redirect_stdout

from singer_sdk import typing as th
from singer_sdk.sinks import BatchSink
from suite_common.sdk_adapter import check_sdk_internals
from target_warehouse.sdk_adapter import SDK_INTERNALS, TargetAdapter

from tests.target_warehouse.singer import activate_version, record, schema, state

WRITTEN: list[dict] = []
"""What the sinks of the latest `NotingTarget` wrote."""


class ListSink(BatchSink):
    """Keeps what it is given."""

    def process_batch(self, context: dict) -> None:
        WRITTEN.extend(context["records"])


class NotingTarget(TargetAdapter):
    """Notes each forwarded hook, then lets the SDK handle the message."""

    name = "target-noting"
    config_jsonschema = th.PropertiesList().to_dict()
    default_sink_class = ListSink

    def __init__(self) -> None:
        super().__init__(config={})
        self.calls: list[str] = []
        WRITTEN.clear()
        self.emitted: list[dict] = []

    def handle_schema_message(self, message_dict: dict) -> None:
        self.calls.append("schema")
        self.sdk_handle_schema_message(message_dict)

    def handle_record_message(self, message_dict: dict) -> None:
        self.calls.append(f"record {message_dict['record']['id']}")
        self.sdk_handle_record_message(message_dict)

    def handle_state_message(self, message_dict: dict) -> None:
        self.calls.append("state")
        self.sdk_handle_state_message(message_dict)

    def handle_activate_version_message(self, message_dict: dict) -> None:
        self.calls.append("activate_version")
        self.sdk_handle_activate_version_message(message_dict)

    def require_fields(self, message_dict: dict, requires: set[str]) -> None:
        self.calls.append(f"require {message_dict['type']}")
        super().require_fields(message_dict, requires)

    def emit_state(self, state: dict) -> None:
        self.emitted.append(state)
        self.sdk_emit_state(state)


def listen(target: NotingTarget, messages: list[dict]) -> list[dict]:
    lines = io.StringIO("".join(json.dumps(message) + "\n" for message in messages))
    out = io.StringIO()
    with redirect_stdout(out):
        target.listen(lines)
    return [json.loads(line) for line in out.getvalue().splitlines()]


def test_every_method_relied_on_is_in_the_installed_sdk():
    check_sdk_internals(SDK_INTERNALS, "target-warehouse")


def test_every_attribute_relied_on_is_set_on_a_live_target():
    target = NotingTarget()
    attributes = [item for item in SDK_INTERNALS if item.parameters is None]
    problems = [item.problem(target) for item in attributes]
    assert problems == [None] * len(attributes)


def test_the_listen_loop_hands_every_message_to_the_hooks():
    target = NotingTarget()
    out = listen(
        target,
        [
            schema("items", {"id": {"type": "integer"}}),
            record("items", {"id": 1}),
            record("items", {"id": 2}),
            state({"bookmarks": {"items": {"id": 2}}}),
            activate_version("items", 7),
        ],
    )
    assert [call for call in target.calls if not call.startswith("require")] == [
        "schema",
        "record 1",
        "record 2",
        "state",
        "activate_version",
    ]
    assert "require RECORD" in target.calls
    assert WRITTEN == [{"id": 1}, {"id": 2}]
    assert target.emitted[-1] == {"bookmarks": {"items": {"id": 2}}}
    assert out[-1] == {"bookmarks": {"items": {"id": 2}}}  # targets write state values


def test_the_sdks_bookkeeping_reads_through_public_names():
    target = NotingTarget()
    listen(target, [schema("items", {"id": {"type": "integer"}}), state({"done": 1})])
    assert target.active_sink("items") is target.active_sinks["items"]
    assert target.active_sink("absent") is None
    assert target.retired_sinks == []
    target.latest_state = {"held": True}
    assert target.latest_state == {"held": True}
