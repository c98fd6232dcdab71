"""Bookmark handling shared by the suite's streams."""

from __future__ import annotations

import typing as t

from suite_common.sdk_adapter import StreamHooks

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class SkipNullBookmarks(StreamHooks):
    """Mixin for an SDK stream (before `StreamHooks`, whose hook it overrides): a record
    without a change value (a NULL column, a 4D `0!0!0` date) leaves the bookmark where it
    is, quietly; the SDK would log a warning for each such record."""

    def advance_bookmark(self, latest_record: dict, *, context: Context | None = None) -> None:
        key = self.replication_key
        if key and latest_record.get(key) is None:
            return
        super().advance_bookmark(latest_record, context=context)
