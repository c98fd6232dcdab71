"""A reconciliation pass: re-read a window whole and let the target retire what vanished.

Deltas only see what a source still lists. A CallRail call flagged as spam or an Arrivy task
deleted simply stops being listed, and a call's notes, tags and value change for weeks after
its `start_time` bookmark went past it. With `reconcile_days` set, a stream reads its window
(the last N days, whatever the bookmark) and frames the read with two RECONCILE messages,
which target-warehouse documents (`target_warehouse/reconciliation.py`):

- `begin`, right after the stream's SCHEMA: the target remembers every key from then on;
- `end`, once a partition's read finished without error: the property range and scope it
  covered. The target retires the rows in there it did not receive (`_sdc_deleted_at`).

The `end` window is a day narrower at each edge than what was asked for: an API that reads
the dates in another zone than sent (CallRail reads them in a zone) then still returns every
record inside it. A read that cannot be complete (`max_pages`, a stream map that may drop
records) sends no `end`, so nothing is retired on a partial read. RECONCILE is not a Singer
message: only target-warehouse reads it, so a reconciliation runs as its own job.
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import typing as t

from singer_sdk import typing as th
from singer_sdk.singerlib.encoding.simple import Message

from suite_common.sdk_adapter import tap_of

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context

MESSAGE_TYPE = "RECONCILE"
EDGE_MARGIN = datetime.timedelta(days=1)
"""How much narrower than the read the retired window is, at each edge."""


def reconcile_setting() -> th.Property:
    """`reconcile_days`, declared alike by every tap that reconciles."""
    return th.Property(
        "reconcile_days",
        th.IntegerType,
        description=(
            "Reconciliation pass: re-read the last N days whatever the bookmark, and let "
            "target-warehouse mark deleted (_sdc_deleted_at) what the source no longer lists "
            "there. Run it as a job of its own (meltano.yml: the --reconcile plugins)."
        ),
    )


@dataclasses.dataclass
class ReconcileMessage(Message):
    """`{"type": "RECONCILE", "stream": …, "phase": "begin" | "end", "window", "scope"}`."""

    stream: str
    phase: str
    window: dict[str, str] | None = None
    scope: dict[str, t.Any] | None = None

    def __post_init__(self) -> None:
        self.type = MESSAGE_TYPE  # type: ignore[assignment]


@dataclasses.dataclass(frozen=True)
class ReadWindow:
    """What one partition's read covered: `property` in [start, end] within `scope`."""

    property: str | None
    start: datetime.datetime | None
    end: datetime.datetime | None
    scope: dict[str, t.Any]

    def message(self, stream: str) -> ReconcileMessage:
        """The `end` message, the window narrowed by `EDGE_MARGIN` at each edge."""
        window = None
        if self.property and self.start and self.end:
            window = {
                "property": self.property,
                "from": _iso(self.start + EDGE_MARGIN),
                "to": _iso(self.end - EDGE_MARGIN),
            }
        return ReconcileMessage(stream=stream, phase="end", window=window, scope=self.scope)


def _iso(moment: datetime.datetime) -> str:
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=datetime.timezone.utc)
    return moment.astimezone(datetime.timezone.utc).isoformat(timespec="seconds")


class ReconciledStream:
    """Mixin for an SDK stream whose window can be re-read (see the module docstring).

    The stream reads from `reconcile_start` instead of its bookmark while `reconciling`, and
    says in `read_window` what a finished partition's read covered.
    """

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """What this partition's read covered; None: nothing to reconcile here."""
        raise NotImplementedError

    @functools.cached_property
    def reconciling(self) -> bool:
        """Whether this run is a reconciliation pass of this stream."""
        if not self.config.get("reconcile_days"):  # type: ignore[attr-defined]
            return False
        reason = self._incomplete_read_reason()
        if reason:
            self.logger.warning(  # type: ignore[attr-defined]
                "%s is read but not reconciled: %s",
                self.name,  # type: ignore[attr-defined]
                reason,
            )
            return False
        return True

    def _incomplete_read_reason(self) -> str | None:
        config = self.config  # type: ignore[attr-defined]
        if config.get("max_pages"):
            return "max_pages reads only part of the window"
        if (config.get("stream_maps") or {}).get(self.name):  # type: ignore[attr-defined]
            return "a stream map may drop or rename the records the target compares"
        return None

    @functools.cached_property
    def read_started(self) -> datetime.datetime:
        """When this stream's read began: the pass's fixed `now`."""
        return datetime.datetime.now(datetime.timezone.utc)

    @property
    def reconcile_start(self) -> datetime.datetime:
        """Where the reconciliation window begins: `reconcile_days` before the read."""
        days = int(self.config["reconcile_days"])  # type: ignore[attr-defined]
        return self.read_started - datetime.timedelta(days=days)

    def write_schema_message(self) -> None:
        super().write_schema_message()  # type: ignore[misc]
        if self.reconciling:
            tap_of(self).write_message(  # type: ignore[arg-type]
                ReconcileMessage(stream=self.name, phase="begin")  # type: ignore[attr-defined]
            )

    def get_records(self, context: Context | None) -> t.Iterable[dict]:
        """The partition's records; once the last one was handed over, its window is noted."""
        yield from super().get_records(context)  # type: ignore[misc]
        if self.reconciling and self.selected:  # type: ignore[attr-defined]
            window = self.read_window(context)
            if window is not None:
                self._finished_windows.append(window)

    def sync(self, context: Context | None = None) -> None:
        """The SDK's sync, then an `end` for each partition read whole."""
        self._finished_windows: list[ReadWindow] = []
        super().sync(context)  # type: ignore[misc]
        for window in self._finished_windows:
            tap_of(self).write_message(window.message(self.name))  # type: ignore[arg-type]
