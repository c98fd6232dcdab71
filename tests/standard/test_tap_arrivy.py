"""The Singer SDK's standard tap tests for tap-arrivy, against the Arrivy stand-in."""

from __future__ import annotations

import atexit

import pytest
from singer_sdk.testing import get_tap_test_class
from tap_arrivy.tap import TapArrivy

from sandbox.arrivy import ArrivyStandIn

pytestmark = pytest.mark.stand_in

# The SDK builds the test class, and lists the streams, when this module is imported, so
# the stand-in starts here rather than in a fixture.
SERVER = ArrivyStandIn(tasks=30).start()
atexit.register(SERVER.stop)
CONFIG = {
    "auth_key": "sandbox-arrivy-key",
    "auth_token": "sandbox-arrivy-token",
    "api_url": f"{SERVER.url}/api",
    "start_date": "2025-01-01T00:00:00Z",
    "requests_per_minute": 100_000,
}

TestTapArrivy = get_tap_test_class(TapArrivy, config=CONFIG)
