"""Values a stream reads from other tables: a HubSpot id, a primary user.

The joins are the ones the old production sync ran against the real Genius database
(`Shahram4wd/Data-Warehouse`, `ingestion/sync/genius/clients/appointments.py`,
`prospects.py`, `users.py`):

- an appointment or a prospect points at its `third_party_source` through its own
  `third_party_source_id`; the source's type (`third_party_source_type.label`) says whether
  its `third_party_id` is HubSpot's. The old SQL tested the label in the second join's ON
  but selected the id unconditionally, so it leaked other systems' ids; here the label
  decides the value.
- a user points at its `users_userassociations` row through `user_associations_id`, which
  holds `primary_user_id`.

Every join is by the joined table's primary key, so it keeps one row per source row. A
database that lacks a table or column a join needs is told in one warning, and the value is
emitted as null: the stream is still read.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Mapping

import sqlalchemy as sa

Tables = Mapping[str, sa.Table]


@dataclasses.dataclass(frozen=True)
class Lookup:
    """One value joined in through a column (`link`) of the stream's own table."""

    name: str
    """The property the value is emitted as."""
    link: str
    needs: Mapping[str, tuple[str, ...]]
    """The other tables the join reads, with the columns it uses."""
    null_type: sa.types.TypeEngine
    """The value's type when the database cannot give it."""
    build: t.Callable[[Lookup, sa.FromClause, sa.Column, Tables], tuple[sa.FromClause, t.Any]]

    def missing(self, table: sa.Table, tables: Tables) -> list[str]:
        """The tables and columns the join needs that the database lacks."""
        gaps = [] if self.link in table.c else [f"{table.name}.{self.link}"]
        for name, columns in self.needs.items():
            if name not in tables:
                gaps.append(f"table {name}")
                continue
            gaps += [f"{name}.{column}" for column in columns if column not in tables[name].c]
        return gaps

    def null(self) -> sa.ColumnElement:
        return sa.type_coerce(sa.null(), self.null_type)

    def join(
        self, source: sa.FromClause, table: sa.Table, tables: Tables
    ) -> tuple[sa.FromClause, sa.ColumnElement]:
        return self.build(self, source, table.c[self.link], tables)


def _hubspot_id(
    lookup: Lookup, source: sa.FromClause, link: sa.Column, tables: Tables
) -> tuple[sa.FromClause, sa.ColumnElement]:
    origin = tables["third_party_source"].alias(f"{lookup.name}_source")
    kind = tables["third_party_source_type"].alias(f"{lookup.name}_type")
    joined = source.outerjoin(origin, origin.c.id == link).outerjoin(
        kind, kind.c.id == origin.c.third_party_source_type_id
    )
    return joined, sa.case((kind.c.label == "hubspot", origin.c.third_party_id))


def hubspot_id(name: str) -> Lookup:
    """The HubSpot id of the row's third-party source, or null when it is another system's."""
    return Lookup(
        name=name,
        link="third_party_source_id",
        needs={
            "third_party_source": ("id", "third_party_source_type_id", "third_party_id"),
            "third_party_source_type": ("id", "label"),
        },
        null_type=sa.String(),
        build=_hubspot_id,
    )


def _primary_user(
    lookup: Lookup, source: sa.FromClause, link: sa.Column, tables: Tables
) -> tuple[sa.FromClause, sa.ColumnElement]:
    associations = tables["users_userassociations"].alias("associations")
    joined = source.outerjoin(associations, associations.c.id == link)
    return joined, associations.c.primary_user_id


PRIMARY_USER = Lookup(
    name="primary_user_id",
    link="user_associations_id",
    needs={"users_userassociations": ("id", "primary_user_id")},
    null_type=sa.Integer(),
    build=_primary_user,
)

JOIN_TABLES = ("third_party_source", "third_party_source_type", "users_userassociations")
