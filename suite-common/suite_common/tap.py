"""The Tap base every tap of the suite extends: what each does alike when it starts.

- Records are written in buffered blocks (`suite_common.messages`).
- `--test=schema` compares the live source with the schemas (`suite_common.drift`).
- A refused setting that is secret is named without its value.
- A setting the tap does not know (`api_urll`) gets a warning naming the closest known one:
  the SDK ignores unknown settings silently, so a typo looked like a default.
- A setting's former name (`renamed_settings`) still works, with a warning; so does a
  setting's former meaning as a switch (`reconcile_days` alone turns `reconcile` on).
- METRIC lines, half of every log, are shown only at `LOGLEVEL=DEBUG` (or the plugin's own
  `<TAP_NAME>_LOGLEVEL=DEBUG`).
- After a sync, what the contact checks flagged per stream (`suite_common.contacts`).
- One `rate_limiter` for all streams, from `requests_per_hour` and `requests_per_minute`
  when the tap declares them (`suite_common.http.RateLimiter`).
- A stream that fails does not stop the others (`suite_common.isolation`), unless the
  failure would stop every stream (`run_stopping_errors`) or `fail_fast` is set.
"""

from __future__ import annotations

import functools
import typing as t

from singer_sdk import Stream, Tap
from singer_sdk.exceptions import ConfigValidationError, FatalAPIError, RetriableAPIError

from suite_common.cli import ErrorFix, run_cli
from suite_common.drift import SchemaDriftCheck
from suite_common.http import RateLimiter
from suite_common.isolation import (
    StreamFailure,
    StreamsFailedError,
    failures_of,
    reason_of,
    write_failure_lines,
)
from suite_common.messages import BufferedRecordsWriter
from suite_common.reconcile import FORMER_SWITCHES
from suite_common.request_errors import CredentialsError, TlsVerificationError, UnreachableError
from suite_common.schemas import (
    add_stream_properties,
    chosen_one_by_one,
    deselect,
    unknown_to_catalog,
)
from suite_common.sdk_adapter import (
    SdkChangedError,
    setup_mapper_whole_for_deselected,
    sync_top_level_streams,
)
from suite_common.settings import InvalidSettingsError, check_at_start


class SuiteTap(SchemaDriftCheck, Tap):
    """A singer-sdk Tap with the suite's start-up behaviour (see the module docstring)."""

    message_writer_class = BufferedRecordsWriter
    renamed_settings: t.ClassVar[dict[str, str]] = {}
    """Former setting name → current name."""
    run_stopping_errors: t.ClassVar[tuple[type[BaseException], ...]] = (
        CredentialsError,
        UnreachableError,
        TlsVerificationError,
        ConfigValidationError,
        InvalidSettingsError,
        SdkChangedError,
    )
    """Failures every other stream would run into too: they stop the run at once."""
    explained_errors: t.ClassVar[tuple[type[BaseException], ...]] = (
        FatalAPIError,
        RetriableAPIError,
    )
    """Failures whose message says it all: a stream's is logged without a traceback (any
    other is a bug, and keeps it)."""

    error_fixes: t.ClassVar[list[ErrorFix]] = []
    """The tap's own errors that end its command in one line, each with its fix (those
    every plugin shares are `suite_common.cli.COMMON_ERRORS`)."""

    @classmethod
    def run_command(cls) -> None:
        """The tap's console command (its `main`): `cli` under `run_cli`, so a problem the
        user can fix ends in one line, not a traceback."""
        run_cli(cls.name, cls.cli, cls.error_fixes)

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        # The settings as given, before the SDK fills in the defaults (in the same dict).
        given = kwargs.get("config")
        given_names = set(given) if isinstance(given, dict) else None
        try:
            super().__init__(*args, **kwargs)
        except ConfigValidationError as exc:
            raise InvalidSettingsError(exc) from None
        given_names = set(self.config) if given_names is None else given_names
        check_at_start(self, self.renamed_settings, FORMER_SWITCHES, given_names)

    def setup_mapper(self) -> None:
        """Stream maps of streams the catalog deselects do not stop the run (see
        `sdk_adapter.setup_mapper_whole_for_deselected`)."""
        setup_mapper_whole_for_deselected(self)

    def sync_streams(self) -> None:
        """Sync every selected stream, going on past one that fails (see
        `suite_common.isolation`); then report what the contact checks flagged, per stream,
        and end with `StreamsFailedError` if a stream failed."""

        self.keep_own_properties()

        def sync_one(stream: Stream) -> None:
            def read() -> None:
                stream.sync()
                stream.finalize_state_progress_markers()

            self.isolated(stream, read)

        attempted = sync_top_level_streams(self, sync_one)
        missing = self.unavailable_streams()
        for stream in self.streams.values():
            contacts = getattr(stream, "contacts", None)
            if contacts is not None and (contacts.phones or contacts.emails):
                self.logger.info("Data quality, %s: %s", stream.name, contacts.summary())
        failures = [*self.failures, *missing]
        if failures:  # each finished stream wrote its state when it finished
            write_failure_lines(self.name, failures)
            raise StreamsFailedError(failures, attempted + len(missing))

    def keep_own_properties(self) -> None:
        """Properties the streams declare that the catalog given lacks (Meltano's cached
        catalog, made before a table gained a column) are written too (suite_common.schemas)."""
        if self.input_catalog is None:
            return
        for stream in self.streams.values():
            entry = self.input_catalog.get_stream(stream.tap_stream_id)
            if entry is None:
                continue
            missing = unknown_to_catalog(entry, stream.schema.get("properties", {}))
            if not missing:
                continue
            names = ", ".join(missing)
            if chosen_one_by_one(entry):
                deselect(stream, missing)
                self.logger.info(
                    "%s: %s not in the catalog, which selects properties one by one: left out",
                    stream.name,
                    names,
                )
                continue
            add_stream_properties(stream, missing)
            self.logger.info("%s: %s not in the catalog given: added", stream.name, names)

    @functools.cached_property
    def failures(self) -> list[StreamFailure]:
        """The streams that failed in this run, and why."""
        return []

    def isolated(self, stream: Stream, read: t.Callable[[], None]) -> bool:
        """Run `read` (which reads `stream`); a failure that need not stop the run is
        logged and recorded, and False returned. A stream that already failed in this
        run (a child, read once per parent record) is not asked again."""
        if any(failure.stream == stream.name for failure in self.failures):
            return False
        try:
            read()
        except self.run_stopping_errors:
            raise
        except Exception as exc:
            if self.config.get("fail_fast"):
                raise
            self.failures.extend(self.stream_failed(exc, stream))
            return False
        return True

    def stream_failed(self, exc: Exception, stream: Stream) -> list[StreamFailure]:
        """Log a stream's failure (with its traceback when it is not one the suite
        explains: a bug) and say what it cost."""
        found = failures_of(exc, stream)
        explained = isinstance(exc, self.explained_errors)
        self.logger.error(
            "Stream %s failed, the run goes on with the others: %s",
            found[0].stream,
            reason_of(exc),
            exc_info=None if explained else exc,
        )
        return found

    def unavailable_streams(self) -> list[StreamFailure]:
        """Streams the catalog selects that the source no longer offers (a table dropped,
        or hidden from the database user): a tap that can tell lists them here."""
        return []

    @functools.cached_property
    def rate_limiter(self) -> RateLimiter:
        """Shared by every stream: each request waits for its slot first."""
        per_hour = self.config.get("requests_per_hour")
        per_minute = self.config.get("requests_per_minute")
        return RateLimiter(int(per_hour) if per_hour else None, per_minute)
