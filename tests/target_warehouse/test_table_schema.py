"""target_warehouse.table_schema: the DDL a schema needs, planned without Postgres (the
statements run against it in test_schema_evolution)."""

from __future__ import annotations

import pytest
from target_warehouse.errors import BadInputError
from target_warehouse.table_schema import ExistingTable, desired_layout, plan

PROPERTIES = {
    "id": {"type": "integer"},
    "Amount": {"type": ["number", "null"]},
    "when": {"type": "string", "format": "date-time"},
}


def test_a_new_table_is_created_with_its_key_and_column_comments():
    layout = desired_layout("crm", "deals", PROPERTIES, ["id"], None)
    assert layout.columns == {"id": "bigint", "amount": "numeric", "when": "timestamptz"}
    statements = plan(layout, None)
    assert statements[0] == 'CREATE SCHEMA IF NOT EXISTS "crm"'
    assert statements[1] == (
        'CREATE TABLE "crm"."deals" (\n    "id" bigint,\n    "amount" numeric,\n'
        '    "when" timestamptz,\n    CONSTRAINT "deals_pkey" PRIMARY KEY ("id")\n)'
    )
    assert 'COMMENT ON COLUMN "crm"."deals"."amount" IS \'Amount\'' in statements


def existing(**changes) -> ExistingTable:
    table = {
        "column_types": {"id": "bigint", "amount": "bigint"},
        "sources": {"id": "id", "Amount": "amount"},
        "not_null": {"id"},
        "primary_key": ["id"],
        "primary_key_name": "deals_pkey",
    }
    return ExistingTable(**{**table, **changes})


def test_an_existing_table_gains_columns_and_widens_without_loss():
    before = existing()
    layout = desired_layout("crm", "deals", PROPERTIES, ["id"], before)
    assert layout.columns["amount"] == "numeric", "bigint widens to numeric"
    statements = plan(layout, before)
    assert statements[0] == (
        'ALTER TABLE "crm"."deals" ALTER COLUMN "amount" TYPE numeric USING "amount"::numeric, '
        'ADD COLUMN "when" timestamptz'
    )
    assert statements[1:] == ['COMMENT ON COLUMN "crm"."deals"."when" IS \'when\'']


def test_nothing_changes_when_the_table_already_fits():
    before = existing(column_types={"id": "bigint", "amount": "numeric", "when": "timestamptz"},
                      sources={"id": "id", "Amount": "amount", "when": "when"})  # fmt: skip
    assert plan(desired_layout("crm", "deals", PROPERTIES, ["id"], before), before) == []


def test_a_changed_key_replaces_the_primary_key():
    before = existing()
    layout = desired_layout("crm", "deals", PROPERTIES, ["id", "when"], before)
    (alter, *_) = plan(layout, before)
    assert 'DROP CONSTRAINT "deals_pkey"' in alter
    assert 'ADD CONSTRAINT "deals_pkey" PRIMARY KEY ("id", "when")' in alter


def test_a_key_the_schema_does_not_declare_is_refused():
    with pytest.raises(BadInputError, match=r"key properties \['ref'\] are not in the schema"):
        desired_layout("crm", "deals", PROPERTIES, ["ref"], None)
