"""Writing Singer messages: msgspec encoding, and records buffered between STATE messages.

The SDK's msgspec writer flushes stdout after every message, one system call per record.
Records only need to reach the target before the STATE message that covers them, so they
go through a 1 MiB buffer on stdout's file descriptor, and every other message (and the
end of the process) flushes it. A tap that is killed loses only records whose state it
never emitted, which the next run reads again.
"""

from __future__ import annotations

import atexit
import io
import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage

BUFFER_BYTES = 1 << 20


class BufferedRecordsWriter(MsgSpecWriter):
    """MsgSpecWriter that flushes at every message except RECORD."""

    _out: io.BufferedWriter | None = None

    @classmethod
    def output(cls) -> io.BufferedWriter:
        """One large buffer on stdout for the process, flushed at exit."""
        if cls._out is None:
            sys.stdout.flush()
            raw = io.FileIO(sys.stdout.fileno(), "wb", closefd=False)
            cls._out = io.BufferedWriter(raw, buffer_size=BUFFER_BYTES)
            atexit.register(cls._out.flush)
        return cls._out

    def write_message(self, message: Message) -> None:
        out = self.output()
        out.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            out.flush()
