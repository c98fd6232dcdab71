"""Errors the target reports to the person running it.

Every error here ends the run with one line on stderr that names what is wrong and how to
fix it. Where the input caused it, the stream and the input line number are added by the
reader so the message points at the exact message that was refused.
"""

from __future__ import annotations

from singer_sdk.exceptions import MissingKeyPropertiesError, RecordsWithoutSchemaException


class WarehouseError(Exception):
    """A problem the user can act on; printed as one line, never as a traceback."""

    def __init__(self, problem: str, *, fix: str = "", stream: str | None = None) -> None:
        super().__init__(problem)
        self.problem = problem
        self.fix = fix
        self.stream = stream
        self.line_number: int | None = None

    def __str__(self) -> str:
        where = []
        if self.stream:
            where.append(f"stream '{self.stream}'")
        if self.line_number is not None:
            where.append(f"input line {self.line_number}")
        prefix = f"{', '.join(where)}: " if where else ""
        suffix = f" Fix: {self.fix}" if self.fix else ""
        stop = "" if self.problem.endswith((".", "?", "!")) else "."
        return f"{prefix}{self.problem}{stop}{suffix}"


class BadInputError(WarehouseError):
    """A Singer message that cannot be processed (malformed, out of order, incomplete)."""


class InvalidRecordError(BadInputError):
    """A RECORD whose values violate the stream's schema or cannot be stored exactly."""


class RecordBeforeSchemaError(BadInputError, RecordsWithoutSchemaException):
    """A RECORD for a stream whose SCHEMA has not come (the SDK's exception too)."""


class MissingKeyError(InvalidRecordError, MissingKeyPropertiesError):
    """A record without a value for a key property (the SDK's exception too)."""


class InvalidValueError(ValueError):
    """A single value that cannot be encoded for its column; wrapped with the column name."""


class ConfigurationError(WarehouseError):
    """Settings that are missing, contradictory, or refused by the server."""


class LoadError(WarehouseError):
    """Postgres refused or lost a batch; committed data stays, state was not advanced."""


def postgres_reason(exc: BaseException) -> str:
    """The first line of a Postgres error: what went wrong, without the CONTEXT dump."""
    text = getattr(exc, "pgerror", None) or str(exc) or type(exc).__name__
    return text.strip().splitlines()[0]
