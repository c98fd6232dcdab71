"""The Singer SDK's standard tap tests for tap-legacy-erp, against the 4D stand-in."""

from __future__ import annotations

import atexit
import tempfile
from pathlib import Path

import pytest
from singer_sdk.testing import get_tap_test_class
from tap_legacy_erp.tap import TapLegacyErp

from sandbox.legacy_erp import LegacyErpStandIn

pytestmark = pytest.mark.stand_in

# The SDK builds the test class, and lists the streams, when this module is imported, so
# the stand-in starts here rather than in a fixture.
SERVER = LegacyErpStandIn(documents=30).start()
atexit.register(SERVER.stop)
SESSION_FILE = Path(tempfile.mkdtemp(prefix="erp-standard-")) / "session"
CONFIG = {"base_url": SERVER.url, "session_file": str(SESSION_FILE)}

TestTapLegacyErp = get_tap_test_class(TapLegacyErp, config=CONFIG)
