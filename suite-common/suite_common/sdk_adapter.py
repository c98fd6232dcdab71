"""Every singer-sdk internal the suite's taps rely on, behind public names, in one place.

The SDK has no public hook for a few things the taps need: writing RECORD messages without
its per-record selection walk, a message right after a stream's SCHEMA, skipping a record's
bookmark update, its request call (retries and request metrics) inside the taps' own page
loop, a stream's tap, the settings behind the read-only `config` view, the steps of its
`sync_all` around each stream (to go on past a stream that failed), and its mapper set-up
(a bug fixed in a later release). The mixins and
functions here forward each to a public name; nothing else in the suite touches them.

`SDK_INTERNALS` lists them, and `check_sdk_internals` (run by every tap's command before
anything else, and by the tests) fails loudly, naming what changed, when a singer-sdk
release renames one.
"""

from __future__ import annotations

import dataclasses
import inspect
import typing as t

from singer_sdk import Tap
from singer_sdk.exceptions import AbortedSyncFailedException, AbortedSyncPausedException
from singer_sdk.plugin_base import PluginBase
from singer_sdk.singerlib import Catalog
from singer_sdk.streams import RESTStream, Stream

if t.TYPE_CHECKING:
    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.singerlib import RecordMessage


@dataclasses.dataclass(frozen=True)
class Internal:
    """One SDK internal: where it lives, its name and the parameters relied upon."""

    owner: type
    name: str
    parameters: tuple[str, ...] | None = None
    """For a method, its parameter names after `self`; None for an attribute, which an
    instance may only set in `__init__` (so `problem` looks for it on a live object)."""

    def problem(self, instance: object | None = None) -> str | None:
        """What is wrong with it in the installed SDK, if anything: a method is checked on
        its class, an attribute on `instance` (an `owner`) when one is given."""
        where = f"{self.owner.__name__}.{self.name}"
        if self.parameters is None:
            if instance is not None:
                return None if hasattr(instance, self.name) else f"{where} is gone"
            return None  # set in __init__: only a live object can tell
        member = getattr(self.owner, self.name, None)
        if not callable(member):
            return f"{where} is gone"
        found = tuple(inspect.signature(member).parameters)[1:]
        if found != self.parameters:
            return f"{where} now takes {found}, not {self.parameters}"
        return None


class SdkChangedError(ImportError):
    """The installed singer-sdk changed an internal this suite relies on."""


def check_sdk_internals(internals: t.Iterable[Internal], plugin: str) -> None:
    """Raise `SdkChangedError` naming every one of `internals` the installed SDK changed."""
    problems = [problem for item in internals if (problem := item.problem())]
    if problems:
        raise SdkChangedError(
            f"{plugin} does not support this singer-sdk release ({'; '.join(problems)})"
        )


SDK_INTERNALS: tuple[Internal, ...] = (
    Internal(Stream, "_generate_record_messages", ("record",)),
    Internal(Stream, "_write_schema_message", ()),
    Internal(Stream, "_increment_stream_state", ("latest_record", "context")),
    Internal(Stream, "_stream_version"),
    Internal(Stream, "_tap"),
    Internal(RESTStream, "_request", ("prepared_request", "context")),
    Internal(PluginBase, "_config"),
    Internal(Stream, "_sync_children", ("child_context",)),
    Internal(Tap, "_reset_state_progress_markers", ()),
    Internal(Tap, "_set_compatible_replication_methods", ()),
    Internal(Tap, "sync_all", ()),  # final in the SDK: forwarded by TapHooks
    Internal(Tap, "write_schemas", ()),  # final too
    Internal(Stream, "sync", ("context",)),  # final too: forwarded by StreamHooks
    Internal(Tap, "setup_mapper", ()),  # replaced whole (setup_mapper_whole_for_deselected)
)


def mutable_config(plugin: PluginBase) -> dict[str, t.Any]:
    """The dict behind `plugin.config` (a read-only view), to rename deprecated settings
    once, after the SDK validated and completed them with their defaults."""
    config = plugin.__dict__.get("_config")
    if not isinstance(config, dict):
        msg = "singer-sdk no longer keeps a plugin's settings in _config: update sdk_adapter"
        raise TypeError(msg)
    return config


def tap_of(stream: Stream) -> Tap:
    """The tap a stream belongs to (the SDK keeps it, but offers no public name)."""
    return t.cast("Tap", stream._tap)


class TapHooks(Tap):
    """The SDK tap with its final `sync_all` and `write_schemas` forwarded to public
    methods a tap overrides (`sync_streams`, `write_stream_schemas`); the SDK marks them
    final, so the overrides live here, the one module that goes behind the SDK's back."""

    def sync_all(self) -> None:  # type: ignore[misc]  # final in the SDK
        self.sync_streams()

    def write_schemas(self) -> None:  # type: ignore[misc]  # final in the SDK
        self.write_stream_schemas()

    def sync_streams(self) -> None:
        """Sync every selected stream (the SDK's `sync_all`)."""
        Tap.sync_all(self)

    def write_stream_schemas(self) -> None:
        """Write every stream's SCHEMA (the SDK's `write_schemas`, for `--test=schema`)."""
        Tap.write_schemas(self)


class StreamHooks(Stream):
    """Mixin for an SDK stream: the SDK's private per-stream steps forwarded to public
    methods a stream overrides, calling `sdk_…` for the SDK's own. It derives from the
    SDK's `Stream`, so Python puts it before the SDK class of any stream that lists it."""

    def _generate_record_messages(self, record: dict) -> t.Generator[RecordMessage]:
        return self.record_messages(record)

    def _write_schema_message(self) -> None:
        self.write_schema_message()

    def _increment_stream_state(
        self, latest_record: dict, *, context: Context | None = None
    ) -> None:
        self.advance_bookmark(latest_record, context=context)

    def _sync_children(self, child_context: Context | None) -> None:
        if child_context is None:  # the SDK warns and skips
            super()._sync_children(child_context)
            return
        for child in self.child_streams:
            if child.selected or child.has_selected_descendents:
                self.sync_child(child, child_context)

    def sync(self, context: Context | None = None) -> None:  # type: ignore[misc]  # final
        self.sync_partition(context)

    def sync_partition(self, context: Context | None = None) -> None:
        """Sync the stream, or one partition or parent record of it (the SDK's `sync`)."""
        Stream.sync(self, context)

    def sync_child(self, child: Stream, context: Context) -> None:
        """Read `child`'s records of one parent record (the SDK's loop over the children:
        a sync the SDK aborted on purpose goes on with the next child)."""
        try:
            child.sync(context=context)
        except (AbortedSyncFailedException, AbortedSyncPausedException):
            return

    def record_messages(self, record: dict) -> t.Generator[RecordMessage]:
        """The RECORD messages of one record, one per stream map."""
        return self.sdk_record_messages(record)

    def write_schema_message(self) -> None:
        """Write the stream's SCHEMA message(s)."""
        self.sdk_write_schema_message()

    def advance_bookmark(self, latest_record: dict, *, context: Context | None = None) -> None:
        """Move the stream's bookmark on to `latest_record`."""
        self.sdk_advance_bookmark(latest_record, context=context)

    def sdk_record_messages(self, record: dict) -> t.Generator[RecordMessage]:
        return super()._generate_record_messages(record)

    def sdk_write_schema_message(self) -> None:
        super()._write_schema_message()

    def sdk_advance_bookmark(self, latest_record: dict, *, context: Context | None) -> None:
        super()._increment_stream_state(latest_record, context=context)

    @property
    def stream_version(self) -> int | None:
        """The version the SDK puts on this sync's RECORD messages."""
        return self._stream_version


def sdk_request(
    stream: RESTStream, prepared_request: requests.PreparedRequest, context: Context | None
) -> requests.Response:
    """One request as the SDK sends it (authenticated, timed in its metrics, validated),
    for a page loop of the tap's own; no retries (wrap it in `request_decorator`)."""
    return RESTStream._request(stream, prepared_request, context)


def setup_mapper_whole_for_deselected(tap: Tap) -> None:
    """The SDK's `Tap.setup_mapper`, except that a stream the catalog deselects is registered
    with its whole schema (meltano/sdk#1942, fixed after 0.54 by sdk#3046): the SDK registers
    it with none of its properties, so a stream map for it, such as meltano.yml's maps of the
    ERP's documents when Meltano selects only products, stopped the run on its key."""
    PluginBase.setup_mapper(tap)
    tap.mapper.register_raw_streams_from_catalog(deselected_made_whole(tap.catalog))


def deselected_made_whole(catalog: Catalog) -> Catalog:
    """A copy of `catalog` in which each deselected stream and its properties are selected,
    for the mapper alone; the tap still reads only what the catalog selects."""
    copy = Catalog.from_dict(catalog.to_dict())
    for entry in copy.streams:
        if not entry.metadata.resolve_selection()[()]:
            for metadata in entry.metadata.values():
                metadata.selected = True
    return copy


def sync_top_level_streams(tap: Tap, sync_one: t.Callable[[Stream], None]) -> int:
    """The SDK's `sync_all`, each selected top-level stream synced through `sync_one`
    (which reads it and makes its state final, or records its failure and returns).
    Returns how many streams were attempted, children included."""
    tap._reset_state_progress_markers()
    tap._set_compatible_replication_methods()
    if tap.state:
        tap.state_writer.write_state(tap.state)
    attempted = 0
    for stream in tap.streams.values():
        if not stream.selected and not stream.has_selected_descendents:
            tap.logger.info("Skipping deselected stream '%s'.", stream.name)
            continue
        attempted += 1
        if stream.parent_stream_type:  # read inside its parent's loop
            continue
        sync_one(stream)
    for stream in tap.streams.values():
        stream.log_sync_costs()
    return attempted
