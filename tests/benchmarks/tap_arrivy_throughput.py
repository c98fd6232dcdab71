"""Benchmark tap-arrivy against the Arrivy stand-in (a separate process, real HTTP).

1. Unthrottled: records/s and the tap's peak memory, at two sizes (flat memory shows as a
   peak that does not grow with the number of tasks).
2. Throttled: the stand-in enforces R requests per minute and the tap is told the same R;
   prints the request rate achieved as a share of R, and the 429s the stand-in sent.

    python tests/benchmarks/tap_arrivy_throughput.py --tasks 20000 --rate 120 --seconds 60
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
TAP = str(Path(sys.executable).with_name("tap-arrivy"))
HEADERS = {"X-Auth-Key": "sandbox-arrivy-key", "X-Auth-Token": "sandbox-arrivy-token"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_stand_in(tasks: int) -> tuple[subprocess.Popen, str]:
    """`python -m sandbox serve` with `tasks` scheduled tasks, in its own process."""
    port = free_port()
    ports = [f"--arrivy-port={port}", f"--callrail-port={free_port()}"]
    ports.append(f"--legacy-erp-port={free_port()}")
    command = [sys.executable, "-m", "sandbox", "serve", "--tasks", str(tasks), "--calls", "10"]
    command += ports
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
    """Seconds, records emitted, and the tap's own peak RSS (MB)."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        process = subprocess.Popen(
            [TAP, "--config", str(path)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL
        )
        records = sum(1 for line in process.stdout if line.startswith(b'{"type":"RECORD"'))
        _, _, usage = os.wait4(process.pid, 0)
        return time.perf_counter() - started, records, usage.ru_maxrss // 1024


def config_for(url: str, **extra: object) -> dict:
    return {
        "auth_key": "sandbox-arrivy-key", "auth_token": "sandbox-arrivy-token",
        "api_url": f"{url}/api", "start_date": "2025-01-01T00:00:00+00:00",
        "requests_per_minute": 1_000_000, **extra,
    }  # fmt: skip


def unthrottled(tasks: int) -> tuple[float, int, int]:
    process, url = start_stand_in(tasks)
    try:
        return run_tap(config_for(url))
    finally:
        process.terminate()
        process.wait()


def throttled(rate: int, seconds: float) -> tuple[float, int]:
    """Requests per minute achieved with server and tap both at `rate`, and 429s sent."""
    process, url = start_stand_in(int(rate * seconds / 60) * 3)
    try:
        limits = {"limits": [{"requests": rate, "seconds": 60}]}
        requests.post(f"{url}/_sandbox/rate-limits", json=limits, timeout=5)
        with tempfile.TemporaryDirectory() as folder:
            path = Path(folder) / "config.json"
            path.write_text(
                json.dumps(config_for(url, requests_per_minute=rate, items_per_page=20))
            )
            started = time.perf_counter()
            subprocess.run([TAP, "--config", str(path)], stdout=subprocess.DEVNULL,
                           stderr=subprocess.DEVNULL, timeout=seconds * 20, check=True)  # fmt: skip
            elapsed = time.perf_counter() - started
        sent = len(requests.get(f"{url}/_sandbox/requests", timeout=30).json())
        refused = requests.get(f"{url}/_sandbox/health", timeout=5).json()["rate_limited"]
        return sent / elapsed * 60, refused
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
        seconds, records, peak = unthrottled(tasks)
        print(
            f"{label:<24}{tasks:>8}{records:>9}{seconds:>9.1f}{records / seconds:>11,.0f}{peak:>9}"
        )
    per_minute, refused = throttled(args.rate, args.seconds)
    print(f"throttled at {args.rate}/min: achieved {per_minute:.1f}/min = "
          f"{per_minute / args.rate:.1%} of the limit, {refused} x 429")  # fmt: skip


if __name__ == "__main__":
    main()
