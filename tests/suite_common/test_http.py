"""suite_common.http: the rate limiter and Retry-After."""

from __future__ import annotations

import email.utils
import itertools
import time

import requests
from suite_common.http import RateLimiter, retry_after_seconds


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
