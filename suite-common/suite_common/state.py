"""Bookmark handling shared by the suite's streams."""

from __future__ import annotations

import typing as t

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context


class SkipNullBookmarks:
    """Mixin for an SDK stream (listed before `StreamHooks`): a record without a change
    value (a NULL column, a 4D `0!0!0` date) leaves the bookmark where it is, quietly; the
    SDK would log a warning for each such record."""

    def advance_bookmark(self, latest_record: dict, *, context: Context | None = None) -> None:
        key = self.replication_key  # type: ignore[attr-defined]
        if key and latest_record.get(key) is None:
            return
        super().advance_bookmark(latest_record, context=context)  # type: ignore[misc]
