"""Read ahead: fetch the next page while the current one is being turned into records.

Without it a tap alternates between waiting for the API and working on a page, so a sync
takes the sum of both; reading ahead on a thread makes it take the larger of the two. The
queue holds at most `depth` pages, so memory stays constant whatever the stream's size.
"""

from __future__ import annotations

import queue
import threading
import typing as t

T = t.TypeVar("T")

_DONE = object()
_POLL_SECONDS = 0.2


class _Failure:
    """An exception raised by the producer, handed to the consumer to raise."""

    def __init__(self, error: BaseException) -> None:
        self.error = error


def prefetched(items: t.Iterable[T], depth: int = 1, name: str = "prefetch") -> t.Iterator[T]:
    """`items` in order, produced on a thread up to `depth` items ahead of the consumer.

    An exception in the producer is raised in the consumer at the point it occurred in the
    sequence. When the consumer stops early, the producer stops at its next item.
    """
    ready: queue.Queue[t.Any] = queue.Queue(maxsize=depth)
    stopped = threading.Event()

    def offer(item: t.Any) -> bool:
        """Put `item`, waiting for room; False when the consumer has gone."""
        while not stopped.is_set():
            try:
                ready.put(item, timeout=_POLL_SECONDS)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in items:
                if not offer(item):
                    return
        except BaseException as error:
            offer(_Failure(error))
            return
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()  # a generator's own cleanup runs on this thread, now
        offer(_DONE)

    worker = threading.Thread(target=produce, name=name, daemon=True)
    worker.start()
    try:
        while True:
            item = ready.get()
            if item is _DONE:
                return
            if isinstance(item, _Failure):
                raise item.error
            yield item
    finally:
        stopped.set()
