"""Console entry points that end in one clear line when the user can fix the problem.

Every tap's `main()` hands `run_cli` its own table of errors and fixes; the ones every tap
shares are added here once: a config, state or catalog file that is missing or not JSON
(checked before the SDK reads it, so the line names the file), settings the config schema
refuses (each named), a host that cannot be reached, a certificate that cannot be verified,
an API that kept failing or refused a request, and streams that failed while the others
were synced (`suite_common.isolation`).
"""

from __future__ import annotations

import json
import sys
import typing as t
from pathlib import Path

from singer_sdk.exceptions import (
    ConfigValidationError,
    FatalAPIError,
    MapExpressionError,
    RetriableAPIError,
    StreamMapConfigError,
)

from suite_common.isolation import StreamsFailedError, streams_failed_fix
from suite_common.request_errors import TLS_FIX, UNREACHABLE_FIX
from suite_common.sdk_adapter import SDK_INTERNALS, Internal, SdkChangedError, check_sdk_internals
from suite_common.settings import InvalidSettingsError

JSON_FILE_OPTIONS = ("--config", "--state", "--catalog", "--properties")


class MissingFileError(Exception):
    """A file named on the command line does not exist."""


class NotJsonError(Exception):
    """A file named on the command line is not JSON."""


def check_json_files(argv: t.Sequence[str]) -> None:
    """Every JSON file the command line names exists and parses, or one line says which."""
    for position, argument in enumerate(argv):
        option, _, value = argument.partition("=")
        if option not in JSON_FILE_OPTIONS:
            continue
        if not value:
            value = argv[position + 1] if position + 1 < len(argv) else ""
        if not value or value == "ENV":  # `--config ENV`: settings from the environment
            continue
        path = Path(value)
        if not path.is_file():
            raise MissingFileError(f"the {option[2:]} file {value} does not exist")
        try:
            json.loads(path.read_text(encoding="utf-8"))
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc).split("\n", 1)[0]
            raise NotJsonError(f"the {option[2:]} file {value} is not JSON ({reason})") from None


SETTINGS_FIX = "correct the settings named (the plugin's --about lists them)"

ErrorFix = tuple[type[BaseException], str | t.Callable[[t.Any], str] | None]
"""An error type and its fix: a text, a function of the error that writes it, or None
when the error's own text ends with its fix (target-warehouse's errors)."""

COMMON_ERRORS: list[ErrorFix] = [
    (SdkChangedError, "install the singer-sdk version the plugin's pyproject pins"),
    (MissingFileError, "give the path of an existing JSON file"),
    (NotJsonError, "correct the file: one JSON object"),
    (ConfigValidationError, SETTINGS_FIX),
    (InvalidSettingsError, SETTINGS_FIX),
    UNREACHABLE_FIX,
    TLS_FIX,
    (StreamMapConfigError, "correct stream_maps (the SDK's stream maps guide: sdk.meltano.com)"),
    (MapExpressionError, "correct the expression in stream_maps"),
    (RetriableAPIError, "the source kept failing after retries; try again later"),
    (FatalAPIError, "check the settings the message names"),
    (StreamsFailedError, streams_failed_fix),
]


def run_cli(
    name: str,
    cli: t.Callable[[], t.Any],
    errors: t.Sequence[ErrorFix],
    sdk_internals: t.Iterable[Internal] = SDK_INTERNALS,
) -> None:
    """Run `cli`; an exception of a listed type (the tap's, and `COMMON_ERRORS`) ends the
    run with `name: error: … Fix: …` on stderr, with the fix of the most specific type
    listed. Anything else is a bug and keeps its traceback.

    Before anything else, the singer-sdk internals the plugin relies on (`sdk_internals`)
    are checked, so an SDK release that changed one is refused in one line, not halfway
    through a sync.
    """
    table = [*errors, *COMMON_ERRORS]
    try:
        check_sdk_internals(sdk_internals, name)
        check_json_files(sys.argv[1:])
        cli()
    except tuple(kind for kind, _ in table) as exc:
        lineage = type(exc).__mro__
        _, fix = min(
            ((kind, fix) for kind, fix in table if isinstance(exc, kind)),
            key=lambda entry: lineage.index(entry[0]),
        )
        # The SDK's refusal words it as InvalidSettingsError does, without secrets' values.
        refused = InvalidSettingsError(exc) if isinstance(exc, ConfigValidationError) else exc
        text = str(refused)
        if fix is None:
            fail(name, text)
        said = fix(exc) if callable(fix) else fix
        fail(name, f"{text.rstrip('.')}. Fix: {said}")


def fail(name: str, message: str) -> t.NoReturn:
    """End the command with `name: error: message` on stderr: the one line every command
    of the suite ends a problem the user can fix with."""
    sys.stderr.write(f"{name}: error: {message}\n")
    sys.stderr.flush()
    sys.exit(1)
