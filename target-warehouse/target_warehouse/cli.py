"""The `target-warehouse` command: files a user can fix end in one line.

suite-common's `run_cli` checks the singer-sdk internals the target relies on and the
command line's JSON files first (the SDK ends a file that is missing or not JSON in a
traceback), so the line names what is wrong. Everything after that (settings the schema
refuses, an unreachable server, bad input) ends in a `WarehouseError` whose text names its
fix (the target turns a Postgres error into one as well), or in one of suite-common's
errors.
"""

from __future__ import annotations

from suite_common.cli import ErrorFix, run_cli

from target_warehouse.errors import WarehouseError
from target_warehouse.sdk_adapter import SDK_INTERNALS
from target_warehouse.target import TargetWarehouse


def main() -> None:
    """Console entry point."""
    errors: list[ErrorFix] = [(WarehouseError, None)]
    run_cli("target-warehouse", TargetWarehouse.cli, errors, sdk_internals=SDK_INTERNALS)


if __name__ == "__main__":
    main()
