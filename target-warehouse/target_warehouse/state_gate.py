"""When the target may emit a STATE message, and which.

State moves a bookmark past rows, so it is emitted only after every row before it is
committed: the target drains all sinks (commit) when enough rows or time have passed since
the last flush, then hands the state to `release`. While an overwrite table is still built
beside the live one, its rows are committed but not yet visible, so the state is held until
the swap at the end of the run; a dry run writes nothing, so it emits none.
"""

from __future__ import annotations

import time
import typing as t


class StateGate:
    """Flush timing and the state held back or last emitted, for one run."""

    def __init__(self, max_rows: int, max_seconds: float, *, dry_run: bool) -> None:
        self.max_rows = max_rows
        self.max_seconds = max_seconds
        self.dry_run = dry_run
        self.rows_since_flush = 0
        self.last_flush = time.monotonic()
        self.held: dict | None = None
        """A state that may be emitted only after the overwrite swap."""
        self.emitted: dict | None = None
        """The last state emitted (the run's bookmarks, for the sync history)."""

    def count_row(self) -> bool:
        """One more record read; True every 1,000 (time to check the oldest record's age)."""
        self.rows_since_flush += 1
        return self.rows_since_flush % 1000 == 0

    def flush_due(self) -> bool:
        """Whether enough rows or time have passed to commit everything and emit state."""
        elapsed = time.monotonic() - self.last_flush
        return self.rows_since_flush >= self.max_rows or elapsed >= self.max_seconds

    def release(self, state: dict, *, tables_hidden: bool) -> dict | None:
        """Everything before `state` is committed: the state to emit now, if any."""
        self.rows_since_flush = 0
        self.last_flush = time.monotonic()
        if self.dry_run:
            return None
        if tables_hidden:
            self.held = state
            return None
        if state == self.emitted:
            return None
        self.emitted = state
        return state

    def final(self, latest: dict | None) -> dict | None:
        """At the end, after the swap: the held state when nothing newer came."""
        return self.held if latest is None and self.held is not None else latest

    @property
    def bookmarks(self) -> t.Mapping[str, t.Any]:
        return (self.emitted or {}).get("bookmarks") or {}
