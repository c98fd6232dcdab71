"""A reconciliation pass: re-read a scope whole and let the target retire what vanished.

Deltas only see what a source still lists, and what changed where they look. A CallRail
call flagged as spam or an Arrivy task deleted simply stops being listed, a row deleted from
a Genius table leaves nothing behind, and a call's notes change for weeks after its
`start_time` bookmark went past it. With `reconcile: true`, each stream that can be
reconciled reads its scope whole, whatever its bookmark: a window where the source has one
(the last `reconcile_days` days of calls of each account), else the whole list or table.
It frames the read with two RECONCILE messages, which target-warehouse documents
(`target_warehouse/reconciliation.py`):

- `begin`, right after the stream's SCHEMA: the target remembers every key from then on;
- `end`, once the read finished without error: the property range and scope it covered, or
  `whole_table`. The target retires the rows in there it did not receive.

A window's `end` is a day narrower at each edge than what was asked for: an API that reads
the dates in another zone than sent (CallRail reads them in a zone) then still returns every
record inside it. A read that cannot be complete (`max_pages`, `max_records`, a stream map
that may drop records) sends no `end`, so nothing is retired on a partial read. A child
stream's ends (the positions of the documents read, the statuses of the tasks read) are
written by its top-level parent once the parent's read finished, so no child scope is
retired before every parent was read. RECONCILE is not a Singer message: only
target-warehouse reads it, so a reconciliation runs as its own job (the `--reconcile`
plugins in meltano.yml).
"""

from __future__ import annotations

import dataclasses
import datetime
import functools
import json
import typing as t

from singer_sdk import typing as th
from singer_sdk.singerlib.encoding.simple import Message

from suite_common.moments import iso_utc, setting_moment
from suite_common.sdk_adapter import StreamHooks, tap_of

if t.TYPE_CHECKING:
    from singer_sdk import Stream
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import SingerMessageType

MESSAGE_TYPE = "RECONCILE"
EDGE_MARGIN = datetime.timedelta(days=1)
"""How much narrower than the read the retired window is, at each edge."""
MAX_SCOPE_VALUES = 1000
"""Child scopes merged into one `end` list at most this many parent keys."""
DEFAULT_WINDOW_DAYS = 90

MAP_RULES = frozenset({"__filter__", "__alias__", "__source__", "__else__", "__key_properties__"})
"""Stream map entries that filter, rename or reshape the stream as a whole."""

FORMER_SWITCHES = {"reconcile_days": "reconcile"}
"""`reconcile_days` alone once turned the pass on (now `reconcile: true` does): see
`suite_common.settings.apply_former_switches`."""


def reconcile_settings(*, window: bool) -> list[th.Property[t.Any]]:
    """`reconcile`, the switch every tap declares alike, and `reconcile_days` where the
    source has a window to re-read (CallRail, Arrivy)."""
    settings: list[th.Property[t.Any]] = [
        th.Property(
            "reconcile",
            th.BooleanType,
            default=False,
            description=(
                "Reconciliation pass: read each stream's scope whole whatever the bookmarks "
                + ("(the last reconcile_days days where a stream has a window, else the whole "
                   "list) " if window else "(every selected table) ")
                + "and let target-warehouse retire (_sdc_deleted_at) what the source no "
                "longer lists there and count the drift it repaired. Run it as a job of its "
                "own (meltano.yml: the --reconcile plugins)."
            ),
        )
    ]  # fmt: skip
    if window:
        settings.append(
            th.Property(
                "reconcile_days",
                th.IntegerType,
                default=DEFAULT_WINDOW_DAYS,
                description=(
                    "How many days back a reconciliation pass re-reads the streams that have "
                    "a window (given without reconcile, it also turns the pass on: the former "
                    "spelling)."
                ),
            )
        )
    return settings


@dataclasses.dataclass
class ReconcileMessage(Message):
    """`{"type": "RECONCILE", "stream": …, "phase": "begin" | "end", "window", "scope",
    "whole_table"}`."""

    stream: str
    phase: str
    window: dict[str, str] | None = None
    scope: dict[str, t.Any] | None = None
    whole_table: bool | None = None

    def __post_init__(self) -> None:
        self.type = t.cast("SingerMessageType", MESSAGE_TYPE)


@dataclasses.dataclass(frozen=True)
class ReadWindow:
    """What one read covered: `property` in [start, end] within `scope`, or the whole
    table."""

    property: str | None
    start: datetime.datetime | None
    end: datetime.datetime | None
    scope: dict[str, t.Any]
    whole_table: bool = False

    @classmethod
    def whole(cls) -> ReadWindow:
        """Every record of the stream."""
        return cls(None, None, None, {}, whole_table=True)

    @classmethod
    def within(cls, **scope: t.Any) -> ReadWindow:
        """Every record whose properties equal `scope` (a value, or a list of values)."""
        return cls(None, None, None, scope)

    def message(self, stream: str) -> ReconcileMessage:
        """The `end` message, the window narrowed by `EDGE_MARGIN` at each edge."""
        if self.whole_table:
            return ReconcileMessage(stream=stream, phase="end", whole_table=True)
        window = None
        if self.property and self.start and self.end:
            window = {
                "property": self.property,
                "from": iso_utc(self.start + EDGE_MARGIN, "seconds"),
                "to": iso_utc(self.end - EDGE_MARGIN, "seconds"),
            }
        return ReconcileMessage(stream=stream, phase="end", window=window, scope=self.scope)


def merged(windows: t.Iterable[ReadWindow]) -> list[ReadWindow]:
    """Windows that differ only in one scope value (a child per parent record) merged into
    lists of at most `MAX_SCOPE_VALUES`; a whole-table window once; the others as they are."""
    result: list[ReadWindow] = []
    groups: dict[str, tuple[str, dict[str, t.Any], list[t.Any]]] = {}
    for window in windows:
        if window.whole_table:
            if window not in result:
                result.append(window)
            continue
        varying = [name for name, value in window.scope.items() if not isinstance(value, list)]
        if window.property or len(varying) != 1:
            result.append(window)
            continue
        (name,) = varying
        fixed = {k: v for k, v in window.scope.items() if k != name}
        group = json.dumps([name, fixed], sort_keys=True, default=str)
        groups.setdefault(group, (name, fixed, []))[2].append(window.scope[name])
    for name, fixed, values in groups.values():
        unique = list(dict.fromkeys(values))
        if len(unique) == 1:
            result.append(ReadWindow.within(**fixed, **{name: unique[0]}))
            continue
        for first in range(0, len(unique), MAX_SCOPE_VALUES):
            chunk = unique[first : first + MAX_SCOPE_VALUES]
            result.append(ReadWindow.within(**fixed, **{name: chunk}))
    return result


class ReconciledStream(StreamHooks):
    """Mixin for an SDK stream that can be reconciled (see the module docstring); before
    `StreamHooks`, whose `write_schema_message` it extends.

    While `reconciling`, the stream reads its scope whole (a windowed stream from
    `reconcile_start` instead of its bookmark) and says in `read_window` what a finished
    read of one partition (or parent record) covered. It must come before every class of
    the stream that defines `get_records`, so that it sees each read end.
    """

    def read_window(self, context: Context | None) -> ReadWindow | None:
        """What this partition's read covered; None: nothing to reconcile here."""
        raise NotImplementedError

    @functools.cached_property
    def reconciling(self) -> bool:
        """Whether this run is a reconciliation pass of this stream."""
        if not self.config.get("reconcile"):
            return False
        reason = self.incomplete_read_reason()
        if reason:
            self.logger.warning("%s is read but not reconciled: %s", self.name, reason)
            return False
        return True

    scope_properties: tuple[str, ...] = ()
    """The properties a stream's windows or scopes name (its keys count anyway)."""

    def incomplete_read_reason(self) -> str | None:
        """Why this stream's read may miss records that are there (then nothing is
        retired); a stream with filters of its own adds to this."""
        config = self.config
        for cap in ("max_pages", "max_records"):
            if config.get(cap):
                return f"{cap} reads only part of the scope"
        return self._stream_map_reason((config.get("stream_maps") or {}).get(self.name))

    def _stream_map_reason(self, stream_map: t.Any) -> str | None:
        """A stream map may add or rename other properties (the ERP's code maps do); one
        that filters records, renames the stream or touches what the target compares (the
        keys, the window and scope) makes the pass unsafe."""
        if stream_map is None or stream_map == {}:
            return None
        if not isinstance(stream_map, dict):
            return "its stream map replaces or drops the stream"
        compared = {*self.primary_keys, *self.scope_properties}
        touched = sorted(name for name in stream_map if name in compared or name in MAP_RULES)
        if touched:
            return (
                f"its stream map sets {', '.join(touched)}, which may drop or change the "
                "records or keys the target compares"
            )
        return None

    @functools.cached_property
    def read_started(self) -> datetime.datetime:
        """When this stream's read began: the pass's fixed `now`."""
        return datetime.datetime.now(datetime.timezone.utc)

    @property
    def reconcile_start(self) -> datetime.datetime:
        """Where a windowed stream's pass begins: `reconcile_days` before the read."""
        days = int(self.config["reconcile_days"])
        return self.read_started - datetime.timedelta(days=days)

    @property
    def pass_start(self) -> datetime.datetime:
        """Where a windowed stream's pass reads from: `reconcile_start`, though never
        before `start_date`, the earliest moment the settings ask for."""
        floor = setting_moment(self.config, "start_date")
        return max(self.reconcile_start, floor) if floor else self.reconcile_start

    @property
    def finished_windows(self) -> list[ReadWindow]:
        """The windows read whole so far and not yet reported to the target."""
        return self.__dict__.setdefault("_finished_windows", [])

    def write_schema_message(self) -> None:
        super().write_schema_message()
        if self.reconciling:
            tap_of(self).write_message(ReconcileMessage(stream=self.name, phase="begin"))

    def get_records(self, context: Context | None) -> t.Iterable[dict | tuple[dict, dict | None]]:
        """The partition's records; once the last one was handed over, its window is noted."""
        # The stream's own class, after this mixin, reads them (see the order test).
        yield from super().get_records(context)  # type: ignore[safe-super]
        if self.reconciling:
            window = self.read_window(context)  # a parent notes its children's here too
            if window is not None and self.selected:
                self.finished_windows.append(window)

    def sync_partition(self, context: Context | None = None) -> None:
        """The SDK's sync, then an `end` for each window read whole. A child's ends wait
        for its top-level parent, which writes them once its own read is done."""
        super().sync_partition(context)
        if getattr(self, "parent_stream_type", None) is None:
            write_finished_windows(self)


def write_finished_windows(stream: Stream) -> None:
    """The `end` messages of a stream and of its reconciled descendants, children after
    parents."""
    if isinstance(stream, ReconciledStream):
        for window in merged(stream.finished_windows):
            tap_of(stream).write_message(window.message(stream.name))
        stream.finished_windows.clear()
    for child in stream.child_streams:
        write_finished_windows(child)
