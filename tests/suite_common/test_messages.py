"""Records are written in blocks, but never after the STATE message that follows them."""

from __future__ import annotations

import json

from singer_sdk.singerlib import RecordMessage, StateMessage
from suite_common.messages import BLOCK_BYTES, BufferedRecordsWriter


def lines(capsys) -> list[dict]:
    return [json.loads(line) for line in capsys.readouterr().out.splitlines()]


def test_records_wait_for_the_next_state_and_keep_their_order(capsys):
    writer = BufferedRecordsWriter()
    for number in range(3):
        writer.write_message(RecordMessage(stream="s", record={"id": number}))
    assert lines(capsys) == []
    writer.write_message(StateMessage(value={"bookmarks": {"s": {"id": 2}}}))
    written = lines(capsys)
    assert [m["type"] for m in written] == ["RECORD", "RECORD", "RECORD", "STATE"]
    assert [m["record"]["id"] for m in written[:3]] == [0, 1, 2]


def test_a_full_block_is_written_without_waiting(capsys):
    writer = BufferedRecordsWriter()
    record = {"text": "x" * 1000}
    count = BLOCK_BYTES // 1000 + 1
    for _ in range(count):
        writer.write_message(RecordMessage(stream="s", record=record))
    out = capsys.readouterr().out
    assert len(out.encode()) >= BLOCK_BYTES, "a full block goes out before any STATE"
    assert all(json.loads(line)["record"] == record for line in out.splitlines())
