"""Benchmark tap-callrail against the CallRail stand-in (a separate process, real HTTP).

1. Unthrottled: records/s (every RECORD message the tap emits: N calls of one account and
   that account's forms, texts and small lists) and the tap's peak memory; run at two sizes
   so flat memory shows (the peak must not grow with N).
2. Throttled: the stand-in enforces R requests per minute per account and the tap is told
   the same R; prints the achieved request rate as a share of R and the 429s received.

    python tests/benchmarks/tap_callrail_throughput.py --calls 1000000 --rate 120
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stand_in_process
from tap_callrail.tap import DEFAULT_CALL_FIELDS

HEADERS = {"Authorization": "Token token=sandbox-callrail-key"}


def config_for(url: str, **extra: object) -> dict:
    return {
        "api_key": "sandbox-callrail-key",
        "api_url": f"{url}/v3",
        "account_ids": [],
        "start_date": "2026-01-01T00:00:00Z",
        "requests_per_hour": 10_000_000,
        **extra,
    }


def first_account(url: str) -> str:
    return requests.get(f"{url}/v3/a.json", headers=HEADERS, timeout=10).json()["accounts"][0]["id"]


def bare_client(url: str, account: str) -> float:
    """Calls per second of the simplest possible reader of the same stand-in: a requests
    session following `next_page` and parsing JSON, nothing else. It is the same-run
    baseline: this machine's speed varies by a third from hour to hour."""
    session = requests.Session()
    query = {
        "per_page": 250,
        "relative_pagination": "true",
        "start_date": "2025-01-01T00:00:00+00:00",
        "end_date": "2030-01-01T00:00:00+00:00",
        "sort": "start_time",
        "order": "asc",
        "fields": ",".join(DEFAULT_CALL_FIELDS),
    }
    started = time.perf_counter()
    body = session.get(f"{url}/v3/a/{account}/calls.json", params=query, headers=HEADERS).json()
    count = len(body["calls"])
    while body.get("has_next_page"):
        body = session.get(body["next_page"], headers=HEADERS).json()
        count += len(body["calls"])
    return count / (time.perf_counter() - started)


def unthrottled(calls: int) -> tuple[stand_in_process.TapFigures, float]:
    """One account with `calls` calls (and a fifth as many forms, a tenth as many texts):
    the tap's figures, and the bare client's calls per second on the same stand-in."""
    process, url = stand_in_process.start("callrail", "--calls", str(calls))
    try:
        account = first_account(url)
        baseline = bare_client(url, account)
        config = config_for(url, account_ids=[account], lookback_minutes=0)
        return stand_in_process.run_tap("tap-callrail", config), baseline
    finally:
        process.terminate()
        process.wait()


def throttled(rate: int, seconds: float) -> tuple[float, int]:
    """Requests per minute achieved with server and tap both at `rate`, and 429s seen."""
    process, url = stand_in_process.start("callrail", "--calls", "200000")
    try:
        limits = {"limits": [{"requests": rate, "seconds": 60}]}
        requests.post(f"{url}/_sandbox/rate-limits", json=limits, timeout=5)
        pages = max(int(rate * seconds / 60), 2)
        config = config_for(
            url,
            requests_per_minute=rate,
            max_pages=pages,
            page_size=50,
            account_ids=[first_account(url)],
        )
        return stand_in_process.run_throttled("tap-callrail", config, url, seconds * 20)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--calls", type=int, default=1_000_000)
    parser.add_argument("--rate", type=int, default=120, help="requests per minute (throttled run)")
    parser.add_argument("--seconds", type=float, default=60, help="length of the throttled run")
    args = parser.parse_args()
    small = max(args.calls // 10, 1000)
    print(
        f"{'run':<20}{'calls':>9}{'records':>9}{'seconds':>9}{'records/s':>11}"
        f"{'tap CPU s':>10}{'peak MB':>9}{'bare calls/s':>13}{'tap/bare':>9}"
    )
    for label, calls in (("unthrottled, small", small), ("unthrottled, large", args.calls)):
        run, baseline = unthrottled(calls)
        rate = run.total / run.seconds
        print(
            f"{label:<20}{run.records['calls']:>9}{run.total:>9}{run.seconds:>9.1f}"
            f"{rate:>11,.0f}{run.cpu_seconds:>10.1f}{run.peak_mb:>9}"
            f"{baseline:>13,.0f}{rate / baseline:>9.2f}"
        )
    per_minute, refused = throttled(args.rate, args.seconds)
    print(
        f"throttled at {args.rate}/min: achieved {per_minute:.1f}/min "
        f"= {per_minute / args.rate:.1%} of the limit, {refused} x 429"
    )


if __name__ == "__main__":
    main()
