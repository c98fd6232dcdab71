"""A pipeline run whose failure the sync history records: `warehouse-history run -- …`.

The target records only its own failures: when the tap fails (a refused key, a killed
process), the target ends cleanly and its rows say `success`. Run through this wrapper (cron)
or the Dagster adapter, a pipeline gets a Meltano run ID (`MELTANO_RUN_ID`, which the target
writes into every row), and when it exits non-zero its rows are marked `failed` with the
pipeline's one-line error (`sync_history.mark_pipeline_failed`). When the tap went on past
streams that failed, it named each on a line of its own (`tap-x: stream failed: <stream>:
<reason>`, see suite_common.isolation): only those streams' rows are marked, each with its
reason.
"""

from __future__ import annotations

import collections
import os
import subprocess
import sys
import typing as t
import uuid

from target_warehouse.sync_history import (
    failed_streams,
    mark_pipeline_failed,
    one_line_error,
    source_name,
)


def pipeline_source(command: t.Sequence[str]) -> str:
    """The source a command syncs, for a history row: its first tap (`tap-callrail` →
    `callrail`), else `unknown`."""
    tap = next((word for word in command if word.startswith("tap-")), None)
    return source_name({"source_name": tap}) if tap else "unknown"


def run_recorded(
    command: t.Sequence[str], settings: t.Mapping[str, t.Any], source: str | None = None
) -> int:
    """Run `command` with a Meltano run ID; if it fails, mark its history rows failed.
    Its output passes through; returns its exit code."""
    env = dict(os.environ)
    run_id = env.setdefault("MELTANO_RUN_ID", str(uuid.uuid4()))
    tail: collections.deque[str] = collections.deque(maxlen=500)
    with subprocess.Popen(command, env=env, stderr=subprocess.PIPE, text=True) as process:
        assert process.stderr is not None
        for line in process.stderr:
            sys.stderr.write(line)
            tail.append(line)
    if process.returncode == 0:
        return 0
    error = one_line_error(tail, process.returncode)
    source = source or pipeline_source(command)
    marked = mark_pipeline_failed(settings, run_id, source, error, failed_streams(tail))
    sys.stderr.write(
        f"warehouse-history: the pipeline failed ({error}); {marked} sync-history rows of "
        f"run {run_id} marked failed\n"
    )
    return process.returncode
