"""Benchmark tap-arrivy against the Arrivy stand-in (a separate process, real HTTP).

1. Unthrottled: records/s and the tap's peak memory, at two sizes (flat memory shows as a
   peak that does not grow with the number of tasks).
2. Throttled: the stand-in enforces R requests per minute and the tap is told the same R;
   prints the request rate achieved as a share of R, and the 429s the stand-in sent.

    python tests/benchmarks/tap_arrivy_throughput.py --tasks 20000 --rate 120 --seconds 60
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import requests

sys.path.insert(0, str(Path(__file__).resolve().parent))
import stand_in_process


def config_for(url: str, **extra: object) -> dict:
    return {
        "auth_key": "sandbox-arrivy-key",
        "auth_token": "sandbox-arrivy-token",
        "api_url": f"{url}/api",
        "start_date": "2025-01-01T00:00:00+00:00",
        "requests_per_minute": 1_000_000,
        **extra,
    }


def unthrottled(tasks: int) -> stand_in_process.TapFigures:
    process, url = stand_in_process.start("arrivy", "--tasks", str(tasks), "--calls", "10")
    try:
        return stand_in_process.run_tap("tap-arrivy", config_for(url))
    finally:
        process.terminate()
        process.wait()


def throttled(rate: int, seconds: float) -> tuple[float, int]:
    """Requests per minute achieved with server and tap both at `rate`, and 429s sent."""
    tasks = str(int(rate * seconds / 60) * 3)
    process, url = stand_in_process.start("arrivy", "--tasks", tasks, "--calls", "10")
    try:
        limits = {"limits": [{"requests": rate, "seconds": 60}]}
        requests.post(f"{url}/_sandbox/rate-limits", json=limits, timeout=5)
        config = config_for(url, requests_per_minute=rate, page_size=20)
        return stand_in_process.run_throttled("tap-arrivy", config, url, seconds * 20)
    finally:
        process.terminate()
        process.wait()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--tasks", type=int, default=20_000)
    parser.add_argument("--rate", type=int, default=120, help="requests per minute (throttled)")
    parser.add_argument("--seconds", type=float, default=60, help="about how long to throttle")
    args = parser.parse_args()
    print(f"{'run':<24}{'tasks':>8}{'records':>9}{'seconds':>9}{'records/s':>11}{'peak MB':>9}")
    for label, tasks in (
        ("unthrottled, small", max(args.tasks // 10, 100)),
        ("unthrottled, large", args.tasks),
    ):
        run = unthrottled(tasks)
        print(
            f"{label:<24}{tasks:>8}{run.total:>9}{run.seconds:>9.1f}"
            f"{run.total / run.seconds:>11,.0f}{run.peak_mb:>9}"
        )
    per_minute, refused = throttled(args.rate, args.seconds)
    print(
        f"throttled at {args.rate}/min: achieved {per_minute:.1f}/min = "
        f"{per_minute / args.rate:.1%} of the limit, {refused} x 429"
    )


if __name__ == "__main__":
    main()
