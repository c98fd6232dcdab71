"""The Singer SDK's standard tap tests for tap-genius, against the Genius tables in SQLite
(the same tables the MariaDB stand-in holds; the SDK lists the streams at import, before any
fixture could start a server)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import sqlalchemy as sa
from singer_sdk.testing import get_tap_test_class
from tap_genius.tap import TapGenius

from sandbox import genius

DATABASE = Path(tempfile.mkdtemp(prefix="genius-standard-")) / "genius.sqlite"
genius.seed(sa.create_engine(f"sqlite:///{DATABASE}"), appointments=30)
CONFIG = {"sqlalchemy_url": f"sqlite:///{DATABASE}"}

TestTapGenius = get_tap_test_class(TapGenius, config=CONFIG)
