"""Stream isolation: one stream that fails does not cost the others their data and state.

The SDK ends a run at the first stream that raises, so one list that answers 404, one
table the database user may not read, or one endpoint that keeps answering 500 left every
later stream unread and its bookmark unmoved. Now (`SuiteTap.sync_all`):

- a stream that still fails after its retries is logged, and the run goes on with the next
  stream; what it emitted before failing lands, and its bookmark stays at the last record
  emitted (a stream read out of order keeps the bookmark it had: its progress markers are
  never made final);
- a stream whose parent failed is named as skipped (the SDK reads children inside their
  parent's loop), and a parent whose child failed is named as stopped;
- at the end (each finished stream wrote its STATE when it finished), each failure is
  written on stderr as
  `<tap>: stream failed: <stream>: <reason>` (what `warehouse-history run` and the Dagster
  adapter read to mark those streams' sync-history rows failed), and the run ends non-zero
  with one line naming each failed stream and its reason;
- what every stream would run into (a refused credential, a host that cannot be reached,
  a certificate that cannot be verified) still stops the run at once: `run_stopping_errors`;
- `fail_fast: true` restores stopping at the first failure.
"""

from __future__ import annotations

import dataclasses
import sys
import typing as t

from singer_sdk import typing as th
from singer_sdk.exceptions import RetriableAPIError
from singer_sdk.streams import Stream

if t.TYPE_CHECKING:
    from singer_sdk.singerlib import Catalog

FAILED_STREAM_LINE = "stream failed"
"""The words between the tap's name and the stream's in each failure's stderr line."""
TRY_LATER = "try again later"
"""Said when a failure may pass (the source kept failing); Dagster retries on it."""


def fail_fast_setting() -> th.Property:
    """`fail_fast`: one name in every tap."""
    return th.Property(
        "fail_fast",
        th.BooleanType,
        default=False,
        description=(
            "Stop the run at the first stream that fails. By default a failed stream (a 404, "
            "a 403, a 5xx that keeps coming, a table that cannot be read) is named and the "
            "other streams are synced and their state saved; the run still ends non-zero."
        ),
    )


@dataclasses.dataclass(frozen=True)
class StreamFailure:
    """One stream the run could not finish, and why, in one line."""

    stream: str
    reason: str
    may_pass: bool = False
    """Whether another try may succeed (the source kept failing through every retry)."""

    def line(self, tap: str) -> str:
        """The stderr line a pipeline wrapper reads (see the module docstring)."""
        return f"{tap}: {FAILED_STREAM_LINE}: {self.stream}: {self.reason}"


class StreamsFailedError(Exception):
    """Some streams failed; the others were synced and their state written."""

    def __init__(self, failures: t.Sequence[StreamFailure], attempted: int) -> None:
        self.failures = list(failures)
        named = "; ".join(f"{f.stream} ({f.reason})" for f in self.failures)
        count = len(self.failures)
        super().__init__(
            f"{count} of {attempted} streams failed, the others were synced and their state "
            f"saved: {named}"
        )


def streams_failed_fix(exc: StreamsFailedError) -> str:
    """The fix `run_cli` prints after the line."""
    fix = (
        "correct what each reason names and run again: a failed stream resumes from its "
        "last saved bookmark (fail_fast: true stops at the first failure)"
    )
    if any(failure.may_pass for failure in exc.failures):
        fix += f"; where the source kept failing, {TRY_LATER}"
    return fix


def failing_stream(exc: BaseException, fallback: Stream) -> Stream:
    """The innermost stream whose code raised `exc` (a child, read inside its parent's
    loop, raises through the parent): the last frame of the traceback whose `self` is a
    stream."""
    found = fallback
    frame = exc.__traceback__
    while frame is not None:
        owner = frame.tb_frame.f_locals.get("self")
        if isinstance(owner, Stream):
            found = owner
        frame = frame.tb_next
    return found


def reason_of(exc: BaseException) -> str:
    """The exception in one line: its own words, or its type when it has none."""
    text = " ".join(str(exc).split())
    return text or type(exc).__name__


def failures_of(exc: BaseException, stream: Stream) -> list[StreamFailure]:
    """What a top-level stream's failure cost: the stream that raised, the top-level
    stream stopped by its child, and the selected descendants left unfinished."""
    culprit = failing_stream(exc, stream)
    failures = [StreamFailure(culprit.name, reason_of(exc), isinstance(exc, RetriableAPIError))]
    if culprit is not stream:
        stopped = f"stopped: its child stream {culprit.name} failed"
        failures.append(StreamFailure(stream.name, stopped))
    failures += [
        StreamFailure(child.name, f"skipped: {culprit.name} failed")
        for child in stream.descendent_streams
        if child is not culprit and (child.selected or child.has_selected_descendents)
    ]
    return failures


def selected_in_catalog(catalog: Catalog | None, stream: str) -> bool:
    """Whether the input catalog (Meltano always gives one) selects `stream`."""
    entry = catalog.get_stream(stream) if catalog is not None else None
    if entry is None:
        return False
    root = entry.metadata.root
    return bool(root.selected if root.selected is not None else root.selected_by_default)


def write_failure_lines(tap: str, failures: t.Iterable[StreamFailure]) -> None:
    """Each failure on stderr, in the form a pipeline wrapper reads."""
    for failure in failures:
        sys.stderr.write(failure.line(tap) + "\n")
    sys.stderr.flush()
