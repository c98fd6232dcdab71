"""Benchmark tap-callrail against the CallRail stand-in (a separate process, real HTTP).

1. Unthrottled: records/s for N calls of one account, and the tap's peak memory; run at two
   sizes so flat memory shows (the peak must not grow with N).
2. Throttled: the stand-in enforces R requests per minute per account and the tap is told
   the same R; prints the achieved request rate as a share of R and the 429s received.

    python tests/benchmarks/tap_callrail_throughput.py --calls 1000000 --rate 120
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
TAP = str(Path(sys.executable).with_name("tap-callrail"))


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_stand_in(calls: int) -> tuple[subprocess.Popen, str]:
    """`python -m sandbox serve` with one account of `calls` calls, in its own process."""
    port = free_port()
    command = [sys.executable, "-m", "sandbox", "serve", "--calls", str(calls),
               f"--callrail-port={port}", f"--arrivy-port={free_port()}",
               f"--legacy-erp-port={free_port()}"]  # fmt: skip
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{port}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the stand-in did not start")


def run_tap(config: dict) -> tuple[float, int, int]:
    """Seconds, call records emitted, and peak RSS (MB) of one tap run."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        process = subprocess.Popen([TAP, "--config", str(path)], stdout=subprocess.PIPE,
                                   stderr=subprocess.DEVNULL)  # fmt: skip
        marker = b'{"type":"RECORD","stream":"calls"'
        calls = sum(1 for line in process.stdout if line.startswith(marker))
        _, _, usage = os.wait4(process.pid, 0)  # this child's own peak, not all children's
        seconds = time.perf_counter() - started
    return seconds, calls, usage.ru_maxrss // 1024


def config_for(url: str, **extra: object) -> dict:
    return {
        "api_key": "sandbox-callrail-key", "api_url": f"{url}/v3", "account_ids": [],
        "start_date": "2026-01-01T00:00:00Z", "requests_per_hour": 10_000_000, **extra,
    }  # fmt: skip


def unthrottled(calls: int) -> tuple[float, int, int]:
    process, url = start_stand_in(calls)
    try:
        account = requests.get(
            f"{url}/v3/a.json", headers={"Authorization": "Token token=sandbox-callrail-key"}
        ).json()
        first = account["accounts"][0]["id"]
        return run_tap(config_for(url, account_ids=[first], lookback_minutes=0))
    finally:
        process.terminate()
        process.wait()


def throttled(rate: int, seconds: float) -> tuple[float, int]:
    """Requests per minute achieved with server and tap both at `rate`, and 429s seen."""
    process, url = start_stand_in(200_000)
    try:
        limits = {"limits": [{"requests": rate, "seconds": 60}]}
        requests.post(f"{url}/_sandbox/rate-limits", json=limits, timeout=5)
        pages = max(int(rate * seconds / 60), 2)
        config = config_for(url, requests_per_minute=rate, max_pages=pages, per_page=50)
        config["account_ids"] = [
            requests.get(
                f"{url}/v3/a.json", headers={"Authorization": "Token token=sandbox-callrail-key"}
            ).json()["accounts"][0]["id"]
        ]
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "config.json"
            path.write_text(json.dumps(config))
            started = time.perf_counter()
            subprocess.run([TAP, "--config", str(path)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, check=True)  # fmt: skip
            elapsed = time.perf_counter() - started
        log = requests.get(f"{url}/_sandbox/requests", timeout=30).json()
        sent = [entry for entry in log if "/a/" in entry["path"]]
        refused = requests.get(f"{url}/_sandbox/health", timeout=5).json()["rate_limited"]
        per_minute = len(sent) / elapsed * 60
        return per_minute, refused
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
    small_s, small_n, small_mb = unthrottled(small)
    large_s, large_n, large_mb = unthrottled(args.calls)
    print(f"{'run':<24}{'calls':>10}{'seconds':>9}{'records/s':>11}{'peak MB':>9}")
    for label, seconds, count, peak in (
        ("unthrottled, small", small_s, small_n, small_mb),
        ("unthrottled, large", large_s, large_n, large_mb),
    ):
        print(f"{label:<24}{count:>10}{seconds:>9.1f}{count / seconds:>11,.0f}{peak:>9}")
    per_minute, refused = throttled(args.rate, args.seconds)
    print(f"throttled at {args.rate}/min: achieved {per_minute:.1f}/min "
          f"= {per_minute / args.rate:.1%} of the limit, {refused} x 429")  # fmt: skip


if __name__ == "__main__":
    main()
