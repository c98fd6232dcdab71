"""The keyset condition `(c1, c2, …) > (v1, v2, …)`, spelt out for MariaDB's optimizer, is
the same order as comparing tuples: checked on every pair of rows of a small table."""

from __future__ import annotations

import itertools

import sqlalchemy as sa
from tap_genius.client import _strictly_after


def test_spelt_out_condition_matches_tuple_order_for_one_to_three_columns():
    engine = sa.create_engine("sqlite://")
    metadata = sa.MetaData()
    table = sa.Table("t", metadata, *(sa.Column(name, sa.Integer) for name in "abc"))
    metadata.create_all(engine)
    grid = list(itertools.product((1, 2, 3), repeat=3))
    with engine.begin() as connection:
        connection.execute(table.insert(), [dict(zip("abc", row, strict=True)) for row in grid])
        for width in (1, 2, 3):
            columns = [table.c[name] for name in "abc"[:width]]
            for after in {row[:width] for row in grid}:
                found = connection.execute(
                    sa.select(*columns).where(_strictly_after(columns, after))
                ).all()
                expected = [row[:width] for row in grid if row[:width] > after]
                assert sorted(map(tuple, found)) == sorted(expected), (width, after)
