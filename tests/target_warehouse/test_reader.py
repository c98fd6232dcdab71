"""target_warehouse.reader: exact decoding and errors that name the input line."""

from __future__ import annotations

import decimal
import io
import math

import pytest
from target_warehouse.errors import BadInputError
from target_warehouse.reader import NumberedSingerReader, decode_line


def test_fractions_stay_exact_and_non_finite_tokens_are_read():
    assert decode_line(b'{"v": 0.1}')["v"] == decimal.Decimal("0.1")
    assert decode_line(b'{"v": 12345678901234567890.123}')["v"] == decimal.Decimal(
        "12345678901234567890.123"
    )
    assert math.isnan(decode_line('{"v": NaN}')["v"])
    assert decode_line('{"v": -Infinity}')["v"] == float("-inf")


def read(lines: bytes, **callbacks):
    reader = NumberedSingerReader()
    reader.suite_callbacks.update(callbacks.pop("suite", {}))
    return reader, reader.process_lines(io.BytesIO(lines), callbacks)


def test_each_message_goes_to_its_callback_blank_lines_skipped():
    seen: list[str] = []
    _, stats = read(
        b'{"type": "STATE", "value": {}}\n\n{"type": "RECONCILE", "stream": "s"}\n',
        STATE=lambda m: seen.append("state"),
        suite={"RECONCILE": lambda m: seen.append("reconcile")},
    )
    assert seen == ["state", "reconcile"]
    assert stats == {"STATE": 1, "RECONCILE": 1}


@pytest.mark.parametrize(
    ("line", "problem"),
    [
        (b"{not json", "not valid JSON"),
        (b"[1, 2]", "not a Singer message"),
        (b'{"type": "RECROD"}', "unknown message type 'RECROD'"),
    ],
)
def test_a_bad_line_is_named_with_its_number(line, problem):
    with pytest.raises(BadInputError, match=problem) as refused:
        read(b'{"type": "STATE", "value": {}}\n' + line + b"\n", STATE=lambda m: None)
    assert refused.value.line_number == 2
