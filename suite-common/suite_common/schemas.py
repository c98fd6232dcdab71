"""Stream schemas bundled with a tap: `schemas/<stream name>.json`, found one way.

The Meltano SDK's cookiecutter keeps each stream's JSON schema in a `schemas/` folder of
the package and points `schema_filepath` at it; `BundledSchema` does that for every stream
of a tap at once, and `bundled_schema` reads one where a stream builds its schema itself
(4D tables: a bundled schema, else one given in the settings, else one learned from a
sample).
"""

from __future__ import annotations

import json
import typing as t
from pathlib import Path


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
