"""Reading ahead keeps order, hands failures over where they happened, stays bounded, and
stops producing when the consumer stops."""

from __future__ import annotations

import threading
import time

import pytest
from suite_common.prefetch import prefetched


def test_items_arrive_in_order():
    assert list(prefetched(iter(range(1000)), depth=2)) == list(range(1000))


def test_a_failure_is_raised_after_the_items_before_it():
    def pages():
        yield 1
        yield 2
        raise ConnectionError("dropped")

    received = []
    with pytest.raises(ConnectionError, match="dropped"):
        for item in prefetched(pages()):
            received.append(item)
    assert received == [1, 2]


def test_the_producer_runs_at_most_depth_items_ahead():
    produced = []

    def pages():
        for number in range(100):
            produced.append(number)
            yield number

    items = prefetched(pages(), depth=1)
    assert next(items) == 0
    time.sleep(0.3)
    # one handed over, one waiting in the queue, one made and waiting for room
    assert len(produced) <= 3
    items.close()


def test_the_producer_stops_when_the_consumer_stops():
    produced = []
    finished = threading.Event()

    def pages():
        try:
            for number in range(10_000):
                produced.append(number)
                yield number
        finally:
            finished.set()

    items = prefetched(pages(), depth=1)
    assert [next(items) for _ in range(3)] == [0, 1, 2]
    items.close()
    assert finished.wait(2), "the producer kept running after the consumer stopped"
    assert len(produced) < 10
