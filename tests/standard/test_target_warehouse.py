"""The Singer SDK's standard target tests for target-warehouse, into the embedded Postgres."""

from __future__ import annotations

import uuid

import psycopg2
import pytest
from singer_sdk.testing import get_target_test_class
from target_warehouse.target import TargetWarehouse

from sandbox import warehouse
from tests.conftest import TEST_DATA

# The SDK builds the test class when this module is imported: the server starts here (the
# same one the suite's fixtures use).
URL = warehouse.start(TEST_DATA, stop_at_exit=True)
SCHEMA = f"sdk_{uuid.uuid4().hex[:8]}"
CONFIG = {
    **warehouse.target_config(URL),
    "default_target_schema": SCHEMA,
    "history_schema": f"{SCHEMA}_history",
    # The SDK's suite expects a record without its key to stop the run; by default the
    # target quarantines it instead (tests/target_warehouse/test_bad_input.py).
    "on_invalid_record": "fail",
}

TestTargetWarehouse = get_target_test_class(TargetWarehouse, config=CONFIG)


@pytest.fixture(scope="module", autouse=True)
def dropped_afterwards():
    """The suite's tables go when its tests are done."""
    yield
    with psycopg2.connect(URL) as connection, connection.cursor() as cursor:
        for schema in (SCHEMA, f"{SCHEMA}_history"):
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    connection.close()
