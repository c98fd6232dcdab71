"""tap-legacy-erp: settings and streams."""

from __future__ import annotations

from singer_sdk import Stream, Tap
from singer_sdk import typing as th


class TapLegacyErp(Tap):
    """Singer tap for the legacy 4D ERP REST server."""

    name = "tap-legacy-erp"
    config_jsonschema = th.PropertiesList(
        th.Property("start_date", th.DateTimeType, description="Earliest record to sync."),
    ).to_dict()

    def discover_streams(self) -> list[Stream]:
        """Streams of this source (none yet: they are built under their own issue)."""
        return []
