"""Turn stream and property names into safe, stable Postgres identifiers.

Names from a tap are untrusted: they may be camelCase, contain spaces, quotes or SQL, exceed
Postgres's 63-byte identifier limit, or collide once normalised. Identifiers are always
quoted when used (see `quote`), and normalisation is deterministic so the same source name
maps to the same column on every run. Columns remember their source property name in a
column comment, so a mapping chosen once is kept even when new colliding names appear later.
"""

from __future__ import annotations

import hashlib
import re

MAX_IDENTIFIER_BYTES = 63
_HASH_LENGTH = 8
_CAMEL_BOUNDARY = re.compile(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])")
_NOT_WORD = re.compile(r"\W+")
_REPEATED_UNDERSCORE = re.compile(r"_{2,}")


def stable_hash(name: str) -> str:
    """Short hash of the original name: the same name always gets the same suffix."""
    return hashlib.sha1(name.encode("utf-8"), usedforsecurity=False).hexdigest()[:_HASH_LENGTH]


def _truncate_utf8(text: str, max_bytes: int) -> str:
    encoded = text.encode("utf-8")[:max_bytes]
    return encoded.decode("utf-8", errors="ignore")


def snake_case(name: str) -> str:
    """Lowercase snake case of `name` without the length limit applied."""
    spaced = _CAMEL_BOUNDARY.sub("_", name.strip())
    lowered = _NOT_WORD.sub("_", spaced.lower())
    cleaned = _REPEATED_UNDERSCORE.sub("_", lowered).strip("_")
    if not cleaned:
        cleaned = "_" + stable_hash(name)
    if cleaned[0].isdigit() or name.startswith("_"):
        cleaned = "_" + cleaned
    return cleaned


def with_hash_suffix(base: str, original: str, ending: str = "") -> str:
    """`base` cut to fit 63 bytes together with a hash of `original` and `ending`."""
    room = MAX_IDENTIFIER_BYTES - _HASH_LENGTH - 1 - len(ending.encode("utf-8"))
    return f"{_truncate_utf8(base, room).rstrip('_')}_{stable_hash(original)}{ending}"


def stream_table(stream: str) -> str:
    """The table a stream loads into, before normalisation: a stream named
    `<schema>-<table>` (as tap-mysql, tap-postgres and the SDK's SQL taps name theirs) loads
    into `<table>`, as the SDK's SQL targets (MeltanoLabs' target-postgres) and
    pipelinewise's read it, so a user moving from them finds the tables they expect."""
    return stream.rsplit("-", 1)[-1] if "-" in stream else stream


def identifier(name: str) -> str:
    """Normalised identifier for one name, shortened with a stable hash when too long."""
    cleaned = snake_case(name)
    if len(cleaned.encode("utf-8")) <= MAX_IDENTIFIER_BYTES:
        return cleaned
    return with_hash_suffix(cleaned, name)


def column_names(properties: list[str], existing: dict[str, str] | None = None) -> dict[str, str]:
    """Map each property name to a distinct column name.

    `existing` maps source property names to the columns already created for them; those are
    kept. A new property gets its normalised name unless another property already holds it,
    in which case it gets the normalised name with a hash of its original name. Properties
    whose name already is their normalised form are placed first, so `user_id` keeps
    `user_id` and `UserId` becomes `user_id_<hash>` whatever order they arrive in.
    """
    mapping = dict(existing or {})
    taken = set(mapping.values())
    pending = [p for p in properties if p not in mapping]
    pending.sort(key=lambda p: (identifier(p) != p, p))
    for prop in pending:
        candidate = identifier(prop)
        if candidate in taken:
            candidate = with_hash_suffix(snake_case(prop), prop)
        mapping[prop] = candidate
        taken.add(candidate)
    return {prop: mapping[prop] for prop in properties}


def quote(name: str) -> str:
    """Quote an identifier for SQL; embedded quotes are doubled so nothing escapes."""
    return '"' + name.replace('"', '""') + '"'


def qualified(schema: str, table: str) -> str:
    """Quoted schema-qualified table name."""
    return f"{quote(schema)}.{quote(table)}"
