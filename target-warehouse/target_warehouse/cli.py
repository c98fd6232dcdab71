"""The `target-warehouse` command: files a user can fix end in one line.

The SDK reads `--config` itself and ends a file that is missing or not JSON in a traceback;
it is checked first here (suite-common's check), so the line names the file. Everything
after that (settings the schema refuses, an unreachable server, bad input) is
`TargetWarehouse.invoke`'s.
"""

from __future__ import annotations

import sys

from suite_common.cli import COMMON_ERRORS, MissingFileError, NotJsonError, check_json_files

from target_warehouse.target import TargetWarehouse


def main() -> None:
    """Console entry point."""
    try:
        check_json_files(sys.argv[1:])
    except (MissingFileError, NotJsonError) as exc:
        fix = next(fix for kind, fix in COMMON_ERRORS if isinstance(exc, kind))
        sys.stderr.write(f"target-warehouse: error: {exc}. Fix: {fix}\n")
        sys.exit(1)
    TargetWarehouse.cli()


if __name__ == "__main__":
    main()
