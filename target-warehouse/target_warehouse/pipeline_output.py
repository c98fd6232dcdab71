"""What a pipeline's output says about how it ended: the one-line error a plugin wrote
(`tap-x: error: … Fix: …`, suite_common.cli), which plugin stopped without one (killed, out
of memory), and the streams the tap named as failed while it synced the others
(`tap-x: stream failed: <stream>: <reason>`, suite_common.isolation). The sync history
records a failed run's rows with these words (`sync_history.mark_pipeline_failed`).
"""

from __future__ import annotations

import re
import typing as t

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
