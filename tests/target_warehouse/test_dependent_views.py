"""dependent_views: views built on the target's tables (dbt's staging models) survive a column
widening, a load-time widening, an overwrite's swap and a history table's evolution, with their
grants, comments and indexes; a view that cannot follow stops the load in one line and nothing
changes."""

from __future__ import annotations

import uuid

import pytest

from tests.target_warehouse.singer import column_types, record, rows, run_target, schema

AS_INT = {"id": {"type": "integer"}, "v": {"type": ["null", "integer"]}}
AS_NUM = {"id": {"type": "integer"}, "v": {"type": ["null", "number"]}}
AS_TEXT = {"id": {"type": "integer"}, "v": {"type": ["null", "string"]}}


def execute(db, *statements: str) -> list[tuple]:
    with db.cursor() as cursor:
        for statement in statements:
            cursor.execute(statement)
        found = cursor.fetchall() if cursor.description else []
    db.commit()
    return found


def load(config: dict, props: dict, *values: dict) -> None:
    run = run_target(config, [schema("w", props), *(record("w", v) for v in values)])
    assert run.returncode == 0, run.stderr


@pytest.fixture
def reader(db):
    """A role of the test's own that views are granted to."""
    name = f"reader_{uuid.uuid4().hex[:8]}"
    execute(db, f"CREATE ROLE {name}")
    yield name
    execute(db, f"DROP OWNED BY {name}", f"DROP ROLE {name}")


def test_views_on_a_widened_column_are_made_again_with_grants_comments_and_indexes(
    db, target_config, reader
):
    s = target_config["default_target_schema"]
    load(target_config, AS_INT, {"id": 1, "v": 7})
    execute(
        db,
        f'CREATE VIEW "{s}".stg AS SELECT id, v FROM "{s}".w',
        f'CREATE VIEW "{s}".doubled AS SELECT id, v * 2 AS twice FROM "{s}".stg',
        f'CREATE MATERIALIZED VIEW "{s}".totals AS '
        f'SELECT count(*) AS n, sum(v) AS v FROM "{s}".stg',
        f'CREATE UNIQUE INDEX totals_n ON "{s}".totals (n)',
        f'GRANT SELECT ON "{s}".doubled TO {reader}',
        f"COMMENT ON VIEW \"{s}\".stg IS 'the staging model'",
        f"COMMENT ON COLUMN \"{s}\".doubled.twice IS 'v, twice'",
    )
    load(target_config, AS_NUM, {"id": 2, "v": 2.5})
    assert column_types(db, s, "w")["v"] == "numeric"
    assert rows(db, s, "doubled") == [{"id": 1, "twice": 14}, {"id": 2, "twice": 5}]
    assert column_types(db, s, "doubled")["twice"] == "numeric"
    assert rows(db, s, "totals", order_by="n") == [{"n": 1, "v": 7}]  # as it was: WITH DATA
    [(grants,)] = execute(
        db, f"SELECT has_table_privilege('{reader}', '\"{s}\".doubled', 'SELECT')"
    )
    assert grants is True
    comments = execute(
        db,
        f"SELECT obj_description('\"{s}\".stg'::regclass, 'pg_class'), "
        f"col_description('\"{s}\".doubled'::regclass, 2)",
    )
    assert comments == [("the staging model", "v, twice")]
    assert ("totals_n",) in execute(
        db, f"SELECT indexname FROM pg_indexes WHERE schemaname = '{s}'"
    )


def test_a_load_time_widening_keeps_the_views(db, target_config):
    s = target_config["default_target_schema"]
    load(target_config, AS_INT, {"id": 1, "v": 5})
    execute(db, f'CREATE VIEW "{s}".stg AS SELECT id, v FROM "{s}".w')
    huge = 123456789012345678901234567890
    load(target_config, AS_INT, {"id": 2, "v": huge})
    assert column_types(db, s, "w")["v"] == "numeric"
    assert [r["v"] for r in rows(db, s, "stg")] == [5, huge]


def test_an_overwrite_swaps_the_table_under_its_views(db, target_config):
    s = target_config["default_target_schema"]
    config = {**target_config, "load_method": "overwrite"}
    load(config, AS_INT, {"id": 1, "v": 1}, {"id": 2, "v": 2})
    execute(db, f'CREATE VIEW "{s}".stg AS SELECT id, v FROM "{s}".w')
    load(config, AS_INT, {"id": 3, "v": 3})
    assert rows(db, s, "stg") == [{"id": 3, "v": 3}]


def test_a_history_table_evolves_under_the_views_on_its_current_view(db, target_config):
    s = target_config["default_target_schema"]
    config = {**target_config, "load_method": "history"}
    load(config, AS_INT, {"id": 1, "v": 7})
    execute(db, f'CREATE VIEW "{s}".stg AS SELECT id, v FROM "{s}".w__current')
    with_note = {**AS_NUM, "note": {"type": ["null", "string"]}}
    load(config, with_note, {"id": 1, "v": 7.5, "note": "new"})
    assert column_types(db, s, "w__current")["note"] == "text"
    assert column_types(db, s, "stg")["v"] == "numeric"
    assert rows(db, s, "stg") == [{"id": 1, "v": 7.5}]


def test_a_view_that_cannot_follow_stops_the_load_in_one_line_and_nothing_changes(
    db, target_config
):
    s = target_config["default_target_schema"]
    load(target_config, AS_INT, {"id": 1, "v": 7})
    execute(db, f'CREATE VIEW "{s}".plus_one AS SELECT id, v + 1 AS n FROM "{s}".w')
    run = run_target(target_config, [schema("w", AS_TEXT), record("w", {"id": 2, "v": "two"})])
    assert run.returncode != 0
    error = run.stderr.strip().splitlines()[-1]
    assert "column v (bigint → text) changes type" in error
    assert f'the view "{s}"."plus_one" that reads it could not be made again' in error
    assert "Fix: drop" in error and "Traceback" not in run.stderr
    assert column_types(db, s, "w")["v"] == "bigint"
    assert rows(db, s, "plus_one") == [{"id": 1, "n": 8}]


def test_a_dry_run_sets_the_views_aside_and_changes_nothing(db, target_config):
    s = target_config["default_target_schema"]
    load(target_config, AS_INT, {"id": 1, "v": 7})
    execute(db, f'CREATE VIEW "{s}".stg AS SELECT id, v FROM "{s}".w')
    load({**target_config, "dry_run": True}, AS_NUM, {"id": 2, "v": 2.5})
    assert column_types(db, s, "w")["v"] == "bigint"
    assert rows(db, s, "stg") == [{"id": 1, "v": 7}]
