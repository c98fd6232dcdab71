"""The Singer SDK's standard tap tests for tap-callrail, against the CallRail stand-in."""

from __future__ import annotations

import atexit
import datetime

import pytest
from singer_sdk.testing import get_tap_test_class
from tap_callrail.tap import TapCallRail

from sandbox.callrail import CallRailStandIn

pytestmark = pytest.mark.stand_in

# The SDK builds the test class, and lists the streams, when this module is imported, so
# the stand-in starts here rather than in a fixture.
SERVER = CallRailStandIn(calls_per_account=40).start()
atexit.register(SERVER.stop)
CONFIG = {
    "api_key": "sandbox-callrail-key",
    "api_url": f"{SERVER.url}/v3",
    "start_date": (SERVER.now - datetime.timedelta(days=120)).isoformat(),
    "requests_per_hour": 10_000_000,
}

TestTapCallRail = get_tap_test_class(TapCallRail, config=CONFIG)
