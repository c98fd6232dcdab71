"""History tables' names and DDL, as planned (no database needed)."""

from __future__ import annotations

import pytest
from target_warehouse import scd2_table
from target_warehouse.errors import BadInputError
from target_warehouse.table_schema import ExistingTable, desired_layout

PROPERTIES = {"id": {"type": "integer"}, "status": {"type": ["null", "string"]}}


def test_the_current_view_is_named_after_its_table_and_fits_postgres():
    assert scd2_table.current_view_name("calls") == "calls__current"
    long_name = "x" * 60
    view = scd2_table.current_view_name(long_name)
    assert view.endswith("__current") and len(view.encode()) <= 63
    assert view == scd2_table.current_view_name(long_name), "stable across runs"


def test_a_new_history_table_gets_its_key_with_the_version_start_an_index_and_a_view():
    layout = desired_layout("s", "calls", PROPERTIES, ["id"], None, versioned=True)
    planned = "\n".join(scd2_table.statements(layout, None, view_exists=False))
    assert 'PRIMARY KEY ("id", "_sdc_valid_from")' in planned
    assert 'WHERE "_sdc_valid_to" IS NULL' in planned
    assert 'CREATE OR REPLACE VIEW "s"."calls__current" AS SELECT "id", "status"' in planned


def _upsert_table() -> ExistingTable:
    return ExistingTable(
        column_types={"id": "bigint", "status": "text", "_sdc_extracted_at": "timestamptz"},
        sources={"id": "id", "status": "status"},
        not_null={"id"},
        primary_key=["id"],
        primary_key_name="calls_pkey",
    )


def test_an_upsert_table_is_converted_with_its_rows_as_first_versions():
    existing = _upsert_table()
    layout = desired_layout("s", "calls", PROPERTIES, ["id"], existing, versioned=True)
    planned = scd2_table.statements(layout, existing, view_exists=False)
    assert planned[0].startswith('ALTER TABLE "s"."calls" ADD COLUMN "_sdc_valid_from"')
    assert planned[1] == (
        'UPDATE "s"."calls" SET "_sdc_valid_from" = coalesce("_sdc_extracted_at", now())'
    )
    assert 'ADD CONSTRAINT "calls_pkey" PRIMARY KEY ("id", "_sdc_valid_from")' in planned[2]


def test_a_history_table_is_not_loaded_by_another_method():
    existing = _upsert_table()
    existing.primary_key = ["id", "_sdc_valid_from"]
    layout = desired_layout("s", "calls", PROPERTIES, ["id"], existing)
    with pytest.raises(BadInputError, match="keeps every version") as refused:
        scd2_table.refuse_other_method(existing, layout, "upsert", "calls")
    assert "\n" not in str(refused.value)
    scd2_table.refuse_other_method(_upsert_table(), layout, "upsert", "calls")  # no refusal
