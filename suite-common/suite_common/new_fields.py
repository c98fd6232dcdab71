"""Fields a REST source adds that the bundled schema does not declare: kept, and named.

CallRail and Arrivy add fields to their answers over time. A tap that emitted only its
schema's properties dropped them silently, and only a `--test=schema` run told anyone. Now
each record's undeclared top-level fields land, exactly as sent, in one property,
`_sdc_extra` (an object: a jsonb column in the warehouse), so nothing the source sent is
lost and the field can be promoted to a column of its own later; each new field is named
once per run in the log, at INFO. `keep_new_fields: false` leaves them out, as before.
"""

from __future__ import annotations

import typing as t

from singer_sdk import typing as th

if t.TYPE_CHECKING:
    import logging

EXTRA_FIELDS = "_sdc_extra"
EXTRA_SCHEMA: dict[str, t.Any] = {
    "type": ["object", "null"],
    "description": "Fields the source sent that the schema does not declare, as sent.",
}


REST_DESCRIPTION = (
    "Keep fields the source sends that the stream's schema does not declare, as sent, in the "
    "_sdc_extra object (a jsonb column), each named once per run in the log; false leaves "
    "them out."
)


def keep_new_fields_setting(description: str = REST_DESCRIPTION) -> th.Property:
    """`keep_new_fields`: one name in every tap for keeping what the source added beyond
    what the tap declares (REST taps: `_sdc_extra`; a database: its new columns)."""
    return th.Property("keep_new_fields", th.BooleanType, default=True, description=description)


def keeps_new_fields(config: t.Mapping[str, t.Any]) -> bool:
    """The setting, as every tap declares it (with its default)."""
    return bool(config["keep_new_fields"])


def with_extra_property(schema: dict[str, t.Any], keep: bool) -> dict[str, t.Any]:
    """`schema` with `_sdc_extra` declared when new fields are kept (added once, in place:
    the SDK keeps one schema dict per stream)."""
    if keep and EXTRA_FIELDS not in schema.get("properties", {}):
        schema.setdefault("properties", {})[EXTRA_FIELDS] = dict(EXTRA_SCHEMA)
    return schema


class NewFields:
    """The undeclared fields one stream met in this run, and what is done with them."""

    def __init__(self, stream: str, service: str, logger: logging.Logger, keep: bool) -> None:
        self.stream = stream
        self.service = service
        self.logger = logger
        self.keep = keep
        self.seen: set[str] = set()

    def set_aside(self, row: dict[str, t.Any], declared: t.Collection[str]) -> dict[str, t.Any]:
        """The record's declared fields; the others under `_sdc_extra` (or dropped)."""
        kept = {name: value for name, value in row.items() if name in declared}
        extra = {name: value for name, value in row.items() if name not in declared}
        self.name_new(extra)
        if self.keep:
            kept[EXTRA_FIELDS] = extra
        return kept

    def name_new(self, extra: t.Mapping[str, t.Any]) -> None:
        """Log each field the first time this run meets it."""
        for name in sorted(extra.keys() - self.seen):
            self.seen.add(name)
            where = f"kept in {EXTRA_FIELDS}" if self.keep else "left out (keep_new_fields: false)"
            self.logger.info(
                "New field: %s sends %s.%s, which the schema does not declare; %s. Promote it "
                "to a column by adding it to the stream's schema",
                self.service,
                self.stream,
                name,
                where,
            )
