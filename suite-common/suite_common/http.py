"""Rate limiting and retry waits for REST APIs that limit requests per credential.

The Singer SDK retries failed requests but has no proactive limiter: a tap that only reacts
to 429 keeps hitting the limit. `RateLimiter.wait` is called before every request instead.
`retry_waits` is the one backoff formula: the streams' (through the SDK) and that of
`with_retries`, for a request outside the streams (a session opened first).
"""

from __future__ import annotations

import collections
import email.utils
import logging
import threading
import time
import typing as t

import requests

MAX_WAIT_SECONDS = 300.0


class RateLimiter:
    """Per key (an account, a credential): at most N requests an hour, and requests spaced
    evenly for a per-minute limit.

    Even spacing, rather than bursts, also satisfies servers that count over windows shorter
    than a minute. The limiter is thread-safe and shared by all streams of a tap.
    """

    def __init__(self, per_hour: int | None = None, per_minute: float | None = None) -> None:
        self.per_hour = per_hour
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self._sent: dict[str, collections.deque[float]] = collections.defaultdict(collections.deque)
        self._lock = threading.Lock()
        self.waited_seconds = 0.0

    def wait(self, key: str) -> None:
        """Block until `key` may send one more request, then count it."""
        while True:
            with self._lock:
                now = time.monotonic()
                delay = self.delay(key, now)
                if delay <= 0:
                    self._sent[key].append(now)
                    return
            self.waited_seconds += delay
            time.sleep(delay)

    def delay(self, key: str, now: float) -> float:
        """Seconds `key` must still wait at `now` (zero or less: it may go)."""
        sent = self._sent[key]
        while sent and sent[0] <= now - 3600.0:
            sent.popleft()
        delay = sent[-1] + self.interval - now if sent and self.interval else 0.0
        if self.per_hour and len(sent) >= self.per_hour:
            delay = max(delay, sent[-self.per_hour] + 3600.0 - now)
        return delay


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds from a Retry-After header (a number or an HTTP date), if there is one."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    if value.strip().isdigit():
        return float(value)
    try:
        moment = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(moment.timestamp() - time.time(), 0.0)


def retry_waits(base_seconds: float) -> t.Generator[float, t.Any, None]:
    """Backoff waits for the `backoff` library (the SDK's `backoff_wait_generator`).

    It is sent each failure's exception: Retry-After wins when the answer carries one,
    else base, twice that, four times… capped at five minutes. The SDK adds jitter.
    """
    attempt = 0
    exception = yield 0.0
    while True:
        attempt += 1
        wait = retry_after_seconds(getattr(exception, "response", None))
        if wait is None:
            wait = backoff_seconds(base_seconds, attempt)
        exception = yield min(wait, MAX_WAIT_SECONDS)


def backoff_seconds(base_seconds: float, failures: int) -> float:
    """The wait after `failures` failed tries: base, twice that, four times… capped at five
    minutes. Every retry in the suite waits this way (requests, sessions, reconnects)."""
    return min(base_seconds * 2 ** (failures - 1), MAX_WAIT_SECONDS)


class TransientError(Exception):
    """One try failed in a way another may not (the message says how)."""

    def __init__(self, problem: str, response: requests.Response | None = None) -> None:
        super().__init__(problem)
        self.response = response
        """Read for its Retry-After, as in `retry_waits`."""


Result = t.TypeVar("Result")


def with_retries(
    attempt: t.Callable[[], Result], tries: int, base_seconds: float, logger: logging.Logger
) -> Result:
    """`attempt()` until it returns, at most `tries` times, waiting `retry_waits` between
    tries (each wait logged with the problem); the last `TransientError` is raised when every try
    failed. Any other exception ends it at once."""
    waits = retry_waits(base_seconds)
    next(waits)
    for number in range(1, tries + 1):
        try:
            return attempt()
        except TransientError as problem:
            if number >= tries:
                raise
            wait = waits.send(problem)
            logger.warning("%s; trying again in %.0f s", problem, wait)
            time.sleep(wait)
    msg = "tries must be at least 1"
    raise ValueError(msg)
