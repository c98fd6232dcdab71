"""Stream schemas: bundled with a tap (`schemas/<stream name>.json`, found one way), and
kept ahead of a cached catalog.

The Meltano SDK's cookiecutter keeps each stream's JSON schema in a `schemas/` folder of
the package and points `schema_filepath` at it; `BundledSchema` does that for every stream
of a tap at once, and `bundled_schema` reads one where a stream builds its schema itself
(4D tables: a bundled schema, else one given in the settings, else one learned from a
sample).

Meltano caches a tap's catalog (`use_cached_catalog`), and the SDK writes SCHEMA messages
and prunes records from the catalog it is given. A property the stream declares since (a
column a Genius table gained, `_sdc_extra`) would then never reach the warehouse:
`add_stream_properties` (called by the tap before its streams sync) and `SchemaOverCatalog`
put it back.
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path

from singer_sdk.streams import Stream


def schema_path(directory: Path, stream_name: str) -> Path:
    """Where the bundled schema of a stream is."""
    return directory / f"{stream_name}.json"


def bundled_schema(directory: Path, stream_name: str) -> dict[str, t.Any] | None:
    """The bundled schema of a stream, or None when the tap bundles none for it."""
    path = schema_path(directory, stream_name)
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else None


class BundledSchema:
    """Mixin for an SDK stream (listed before it): its schema is the bundled file of its
    name in `schemas_dir`, which the tap's base stream sets."""

    schemas_dir: t.ClassVar[Path]
    name: str

    @property
    def schema_filepath(self) -> Path:
        return schema_path(self.schemas_dir, self.name)


NAME_CACHES = (
    "schema_properties",
    "schema_property_names",
    "deselected_properties",
    "converters",
)
"""Cached per-stream views of the schema (names, value converters), made again after a
change."""


def add_stream_properties(stream: t.Any, properties: t.Mapping[str, dict]) -> list[str]:
    """Give a stream properties (learned while syncing, or declared since the catalog it
    was given was made) before its SCHEMA message is written: in its schema and in its
    stream maps' schemas, which the SDK writes the SCHEMA message from. Returns the names
    a stream map lacked."""
    stream.schema["properties"].update(properties)
    added = []
    for stream_map in stream.stream_maps:
        mapped = getattr(stream_map, "transformed_schema", None)
        if isinstance(mapped, dict) and isinstance(mapped.get("properties"), dict):
            for name, schema in properties.items():
                if name not in mapped["properties"]:
                    mapped["properties"][name] = schema
                    added.append(name)
    for cached in NAME_CACHES:
        stream.__dict__.pop(cached, None)
    return added


def unknown_to_catalog(entry: t.Any, properties: t.Mapping[str, dict]) -> dict[str, dict]:
    """The `properties` a catalog entry's schema does not have (selected with their
    stream, as the SDK selects a property the metadata does not name)."""
    known = entry.schema.properties or {}
    return {name: schema for name, schema in properties.items() if name not in known}


def chosen_one_by_one(entry: t.Any) -> bool:
    """Whether the catalog selects the stream's properties one by one (some explicitly
    not selected): a property it does not know was then not chosen either."""
    return any(
        len(breadcrumb) == 2 and getattr(metadata, "selected", None) is False
        for breadcrumb, metadata in entry.metadata.items()
    )


def deselect(stream: t.Any, names: t.Iterable[str]) -> None:
    """Leave `names` out of the stream's records (its selection mask)."""
    for name in names:
        stream.mask[("properties", name)] = False
    for cached in NAME_CACHES:
        stream.__dict__.pop(cached, None)


class SchemaOverCatalog(Stream):
    """Mixin for an SDK stream (before the SDK class, as deriving from `Stream` ensures):
    properties the stream itself declares
    that the input catalog's schema lacks (a column the table gained since Meltano cached
    the catalog, `_sdc_extra`) are added to the schema the SDK writes and prunes with, so
    a cached catalog cannot hide them. What the catalog deselects stays deselected: the
    selection lives in the catalog's metadata, and a property it does not name is
    selected with its stream."""

    @property
    def effective_schema(self) -> dict:
        given = super().effective_schema
        own = self.schema
        if given is own:
            return own
        missing = {
            name: schema
            for name, schema in own.get("properties", {}).items()
            if name not in given.get("properties", {})
        }
        if not missing:
            return given
        return {**given, "properties": {**given.get("properties", {}), **missing}}
