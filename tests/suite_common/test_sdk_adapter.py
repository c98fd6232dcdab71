"""The singer-sdk internals suite-common relies on are still there (see sdk_adapter)."""

from __future__ import annotations

from suite_common.sdk_adapter import mutable_config
from tap_callrail.tap import TapCallRail


def test_the_config_behind_the_read_only_view_can_be_changed():
    tap = TapCallRail(config={"api_key": "k"})
    mutable_config(tap)["page_size"] = 11
    assert tap.config["page_size"] == 11
