"""Which warehouse tables a tap loads: its streams, from the list `make docs` writes.

A Dagster asset per table needs the tables before anything runs, so they are not
discovered from the source, and orchestrate reads no tap's code: docs/generate.py lists
each tap's streams into `tap_streams.json` beside this module, and a test keeps the list
current. Meltano's `select` then leaves out a stream it excludes whole (`!stream.*`).
"""

from __future__ import annotations

import dataclasses
import fnmatch
import functools
import json
import logging
import typing as t
from importlib import resources

STREAMS_FILE = "tap_streams.json"
LOGGER = logging.getLogger(__name__)


@dataclasses.dataclass(frozen=True)
class DeclaredStream:
    """A stream as its tap declares it."""

    name: str
    key: tuple[str, ...]
    replication_key: str | None
    parent: str | None
    """The parent stream it is read per, if any."""
    table: str | None
    """For tap-genius, the table it reads."""


def base_plugin(plugin: str) -> str:
    """`tap-callrail--reconcile` (a Meltano plugin that inherits) → `tap-callrail`."""
    return plugin.split("--")[0]


@functools.cache
def _streams_by_tap() -> dict[str, list[dict[str, t.Any]]]:
    return json.loads(resources.files("orchestrate").joinpath(STREAMS_FILE).read_text())


def declared_streams(plugin: str) -> list[DeclaredStream]:
    """Every stream the tap declares, in its order; none, with a warning, for a tap the
    list does not know yet."""
    listed = _streams_by_tap().get(base_plugin(plugin))
    if listed is None:
        LOGGER.warning(
            "%s is not in orchestrate's %s: it gets no table assets. Fix: add it to "
            "docs/generate.py's PLUGINS and run make docs",
            plugin,
            STREAMS_FILE,
        )
        return []
    return [
        DeclaredStream(s["name"], tuple(s["key"]), s["replication_key"], s["parent"], s["table"])
        for s in listed
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
