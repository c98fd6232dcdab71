"""Writing Singer messages: msgspec encoding, and records buffered between STATE messages.

The SDK's msgspec writer flushes stdout after every message, one system call per record.
Records only need to reach the target before the STATE message that covers them, so they
go through the ordinary stdout buffer and every other message flushes it. A tap that is
killed loses only records whose state it never emitted, which the next run reads again.
"""

from __future__ import annotations

import sys

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import Message, RecordMessage


class BufferedRecordsWriter(MsgSpecWriter):
    """MsgSpecWriter that flushes at every message except RECORD."""

    def write_message(self, message: Message) -> None:
        sys.stdout.buffer.write(self.format_message(message))
        if not isinstance(message, RecordMessage):
            sys.stdout.flush()
