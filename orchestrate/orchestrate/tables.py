"""Which warehouse tables a tap loads: its streams, read from the tap package offline.

A Dagster asset per table needs the tables before anything runs, so they are not
discovered from the source: each tap is instantiated with placeholder settings (it declares
its streams in code; tap-genius's come from its list of entities, since its discovery reads
the database). Meltano's `select` then leaves out a stream it excludes whole (`!stream.*`).
The same list makes the plugins' documentation pages (docs/generate.py).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import importlib
import typing as t

OFFLINE_CONFIG: dict[str, dict[str, t.Any]] = {
    "tap-arrivy": {"auth_key": "k", "auth_token": "t"},
    "tap-callrail": {"api_key": "k"},
    "tap-legacy-erp": {"base_url": "http://erp.invalid"},
}
"""Enough settings for each tap to list its streams without reaching its source."""


@dataclasses.dataclass(frozen=True)
class DeclaredStream:
    """A stream as its tap declares it."""

    name: str
    key: tuple[str, ...]
    replication_key: str | None
    parent: str | None
    """The parent stream (per parent record), or for Genius the table it reads."""


def base_plugin(plugin: str) -> str:
    """`tap-callrail--reconcile` (a Meltano plugin that inherits) → `tap-callrail`."""
    return plugin.split("--")[0]


def declared_streams(plugin: str) -> list[DeclaredStream]:
    """Every stream the tap declares, in its order."""
    plugin = base_plugin(plugin)
    if plugin == "tap-genius":
        from tap_genius.tap import STREAM_TYPES

        return [
            DeclaredStream(
                s.name, tuple(s.key), " or ".join(s.change_columns) or None, s.table_name
            )
            for s in STREAM_TYPES
        ]
    module = importlib.import_module(f"{plugin.replace('-', '_')}.tap")
    tap_class = next(
        value
        for value in vars(module).values()
        if isinstance(value, type) and getattr(value, "name", None) == plugin
    )
    tap = tap_class(config=OFFLINE_CONFIG[plugin], validate_config=False)
    return [
        DeclaredStream(
            stream.name,
            tuple(stream.primary_keys or ()),
            stream.replication_key,
            stream.parent_stream_type.name if stream.parent_stream_type else None,
        )
        for stream in tap.streams.values()
    ]


def selected(stream: str, patterns: t.Sequence[str]) -> bool:
    """Whether Meltano's `select` patterns keep any of a stream (`entity.attribute`, `!`
    excludes); a stream only some of whose properties are excluded is still loaded."""
    kept = False
    for pattern in patterns:
        excluded = pattern.startswith("!")
        entity, _, attribute = pattern.lstrip("!").partition(".")
        if not fnmatch.fnmatchcase(stream, entity):
            continue
        if excluded and attribute in ("*", ""):
            return False
        kept = kept or not excluded
    return kept


def loaded_tables(plugin: str, select: t.Sequence[str] | None) -> list[str]:
    """The tables a tap's run loads: its streams that `select` keeps (all without one)."""
    patterns = list(select or ["*.*"])
    return [s.name for s in declared_streams(plugin) if selected(s.name, patterns)]
