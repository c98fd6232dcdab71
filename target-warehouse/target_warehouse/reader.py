"""Read Singer messages from standard input quickly, exactly, and with line numbers.

msgspec decodes each line several times faster than the standard library; numbers with a
fraction become `Decimal` so money and measurements stay exact. Lines that msgspec refuses
are retried with the standard library, which also reads the `NaN` and `Infinity` tokens that
Python's own JSON writer emits: such a value then fails the column's check with a clear
message instead of failing the whole line. Every error carries the input line number.
"""

from __future__ import annotations

import collections
import decimal
import json
import sys
import typing as t

import msgspec
from singer_sdk.singerlib.encoding.base import GenericSingerReader

from target_warehouse.errors import BadInputError, WarehouseError

_decoder = msgspec.json.Decoder(float_hook=decimal.Decimal)
_NON_FINITE = {"NaN": float("nan"), "Infinity": float("inf"), "-Infinity": float("-inf")}


def decode_line(line: str | bytes) -> t.Any:
    """Decode one JSON line; Decimal for fractions, NaN and Infinity as floats."""
    try:
        return _decoder.decode(line)
    except msgspec.DecodeError:
        return json.loads(line, parse_float=decimal.Decimal, parse_constant=_NON_FINITE.get)


class NumberedSingerReader(GenericSingerReader[bytes]):
    """Singer reader that knows which input line it is on, for precise error messages."""

    def __init__(self) -> None:
        super().__init__()
        self.line_number = 0
        self.suite_callbacks: dict[str, t.Callable[[dict], None]] = {}
        """Message types beyond Singer's that the target reads (e.g. RECONCILE)."""

    @property
    def default_input(self) -> t.IO[bytes]:
        """Standard input as bytes: msgspec decodes bytes without a text layer."""
        return sys.stdin.buffer

    def deserialize_json(self, line: bytes) -> dict:
        """Decode one line into a Singer message or explain why it is not one."""
        try:
            message = decode_line(line)
        except (ValueError, UnicodeDecodeError) as exc:
            reason = str(exc).split("\n", 1)[0]
            raise BadInputError(
                f"not valid JSON ({reason})",
                fix="the tap must write one JSON Singer message per line",
            ) from None
        if not isinstance(message, dict) or "type" not in message:
            raise BadInputError(
                "not a Singer message (a JSON object with a 'type' is expected)",
                fix="the tap must write only Singer messages to standard output",
            )
        return message

    def process_lines(
        self,
        file_input: t.IO[bytes] | None,
        callbacks: dict[str, t.Callable[[dict], None]],
    ) -> t.Counter[str]:
        """Dispatch every line to its callback; errors get the line number attached."""
        stats: collections.Counter[str] = collections.Counter()
        callbacks = {**callbacks, **self.suite_callbacks}
        for line in file_input or self.default_input:
            self.line_number += 1
            if not line.strip():
                continue
            try:
                message = self.deserialize_json(line)
                message_type = message["type"]
                if message_type not in callbacks:
                    known = ", ".join(sorted(getattr(k, "value", k) for k in callbacks))
                    raise BadInputError(
                        f"unknown message type {str(message_type)[:40]!r}",
                        fix=f"send only {known}",
                    )
                callbacks[message_type](message)
            except WarehouseError as exc:
                if exc.line_number is None:
                    exc.line_number = self.line_number
                raise
            stats[message_type] += 1
        return stats
