"""suite_common.http: the rate limiter and Retry-After."""

from __future__ import annotations

import email.utils
import itertools
import logging
import time

import pytest
import requests
from suite_common.http import RateLimiter, TransientError, retry_after_seconds, with_retries


def test_rate_limiter_spaces_requests_evenly():
    limiter = RateLimiter(per_hour=None, per_minute=300)
    moments = []
    for _ in range(11):
        limiter.wait("ACC1")
        moments.append(time.monotonic())
    gaps = [later - earlier for earlier, later in itertools.pairwise(moments)]
    assert min(gaps) >= 0.2 - 1e-3
    started = time.monotonic()
    limiter.wait("ACC2")
    assert time.monotonic() - started < 0.05, "another account has its own budget"


def test_rate_limiter_hourly_budget():
    limiter = RateLimiter(per_hour=3, per_minute=None)
    for _ in range(3):
        limiter.wait("ACC1")
    assert limiter.delay("ACC1", time.monotonic()) > 3500


def test_retry_after_as_an_http_date():
    response = requests.Response()
    later = email.utils.formatdate(time.time() + 30, usegmt=True)
    response.headers["Retry-After"] = later
    assert 25 <= retry_after_seconds(response) <= 31
    response.headers["Retry-After"] = "12"
    assert retry_after_seconds(response) == 12
    response.headers["Retry-After"] = "soon"
    assert retry_after_seconds(response) is None


def test_with_retries_waits_as_the_streams_do_and_gives_up_after_the_tries(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("suite_common.http.time.sleep", waits.append)
    answers = iter([TransientError("503"), TransientError("503"), "opened"])

    def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    logger = logging.getLogger("test")
    assert with_retries(attempt, 3, 2.0, logger) == "opened"
    assert waits == [2.0, 4.0]
    with pytest.raises(TransientError, match="still down"):
        with_retries(lambda: (_ for _ in ()).throw(TransientError("still down")), 2, 1.0, logger)
    assert waits == [2.0, 4.0, 1.0], "one wait between two tries"


def test_with_retries_honours_retry_after(monkeypatch):
    waits: list[float] = []
    monkeypatch.setattr("suite_common.http.time.sleep", waits.append)
    busy = requests.Response()
    busy.status_code = 503
    busy.headers["Retry-After"] = "7"
    answers = iter([TransientError("busy", busy), "ok"])

    def attempt() -> str:
        answer = next(answers)
        if isinstance(answer, Exception):
            raise answer
        return answer

    assert with_retries(attempt, 2, 1.0, logging.getLogger("test")) == "ok"
    assert waits == [7.0]
