"""A pipeline run whose failure the sync history records: `warehouse-history run -- …`.

The target records only its own failures: when the tap fails (a refused key, a killed
process), the target ends cleanly and its rows say `success`. Run through this wrapper (cron)
or the Dagster adapter, a pipeline gets a Meltano run ID (`MELTANO_RUN_ID`, which the target
writes into every row), and when it exits non-zero its rows are marked `failed` with the
pipeline's one-line error (`history.mark_pipeline_failed`). When the tap went on past
streams that failed, it named each on a line of its own (`tap-x: stream failed: <stream>:
<reason>`, see suite_common.isolation): only those streams' rows are marked, each with its
reason.
"""

from __future__ import annotations

import collections
import os
import re
import subprocess
import sys
import typing as t
import uuid

from target_warehouse.history import mark_pipeline_failed, source_name

PLUGIN_ERROR = re.compile(r"\b((?:tap|target)-[\w-]+: error: .*)")
"""The suite's one-line error, as a plugin writes it (`tap-x: error: … Fix: …`)."""
FAILED_BLOCK = re.compile(r"\bmeltano\s+(Extractor and loader|Extractor|Loader|Mappers) failed\b")
"""Meltano's line for a plugin that exited non-zero. With no one-line error of its own, the
plugin did not stop by its own decision: a signal (a kill, the OOM killer) or a crash."""
FAILED_STREAM = re.compile(r"\b(?:tap-[\w-]+): stream failed: (?P<stream>[^:\s]+): (?P<reason>.*)")
"""A stream the tap could not finish while it synced the others (suite_common.isolation)."""
MELTANO_FIELDS = re.compile(r"\s+cmd_type=\S+.*$")
"""The fields Meltano's log appends to each line of a plugin's output."""


STOPPED_PLUGINS = {
    "Extractor": "the tap",
    "Loader": "the target",
    "Extractor and loader": "the tap and the target",
    "Mappers": "a mapper",
}
STOPPED_UNANNOUNCED = "stopped without an error of its own (killed, or out of memory)"
"""The wording of a plugin that ended without a one-line error (worth another try)."""


def one_line_error(lines: t.Iterable[str], returncode: int) -> str:
    """The last one-line error a plugin wrote, else which plugin stopped without one, else
    what the exit code says."""
    lines = list(lines)
    found = None
    for line in lines:
        match = PLUGIN_ERROR.search(line)
        if match:
            found = MELTANO_FIELDS.sub("", match.group(1)).strip()
    if found:
        return found
    stopped = [FAILED_BLOCK.search(line) for line in lines]
    if any(stopped):
        plugin = STOPPED_PLUGINS[[m for m in stopped if m][-1].group(1)]
        return f"{plugin} {STOPPED_UNANNOUNCED}"
    if returncode < 0:
        return f"the pipeline was killed (signal {-returncode})"
    return f"the pipeline exited with code {returncode}"


def failed_streams(lines: t.Iterable[str]) -> dict[str, str]:
    """The streams the tap named as failed (stream → reason), in the order it named them."""
    found = {}
    for line in lines:
        match = FAILED_STREAM.search(line)
        if match:
            found[match["stream"]] = MELTANO_FIELDS.sub("", match["reason"]).strip()
    return found


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
