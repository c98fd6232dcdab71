"""What the tap benchmarks share: a stand-in in its own process, and a measured tap run."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
RECORD = b'{"type":"RECORD","stream":"'


def free_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start(name: str, *sizes: str) -> tuple[subprocess.Popen, str]:
    """`python -m sandbox serve` (`sizes` like "--calls", "1000"), on its own core; returns
    the process and the URL of stand-in `name` (callrail, arrivy or legacy-erp)."""
    ports = {server: free_port() for server in ("callrail", "arrivy", "legacy-erp")}
    command = [sys.executable, "-m", "sandbox", "serve", *sizes]
    command += [f"--{server}-port={port}" for server, port in ports.items()]
    process = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    url = f"http://127.0.0.1:{ports[name]}"
    for _ in range(100):
        try:
            if requests.get(f"{url}/_sandbox/health", timeout=1).ok:
                return process, url
        except requests.RequestException:
            time.sleep(0.1)
    raise RuntimeError("the stand-in did not start")


@dataclass
class TapFigures:
    """What one measured tap run produced."""

    seconds: float
    records: Counter[str]
    """RECORD messages per stream."""
    peak_mb: int
    """The tap's own peak RSS (os.wait4: this child's, not the maximum over all children)."""
    cpu_seconds: float

    @property
    def total(self) -> int:
        return sum(self.records.values())


def run_tap(tap: str, config: dict, *arguments: str) -> TapFigures:
    """Run `tap` with `config` (and `arguments`) to the end, counting RECORD messages per
    stream."""
    executable = str(Path(sys.executable).with_name(tap))
    records: Counter[str] = Counter()
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        process = subprocess.Popen(
            [executable, "--config", str(path), *arguments],
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        for line in process.stdout:
            if line.startswith(RECORD):
                records[line[len(RECORD) : line.index(b'"', len(RECORD))].decode()] += 1
        _, _, usage = os.wait4(process.pid, 0)
        seconds = time.perf_counter() - started
    cpu = usage.ru_utime + usage.ru_stime
    return TapFigures(seconds, records, usage.ru_maxrss // 1024, cpu)


def run_throttled(tap: str, config: dict, url: str, timeout: float) -> tuple[float, int]:
    """Requests per minute the tap achieved against the stand-in at `url`, and its 429s."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "config.json"
        path.write_text(json.dumps(config))
        started = time.perf_counter()
        subprocess.run(
            [str(Path(sys.executable).with_name(tap)), "--config", str(path)],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=timeout,
            check=True,
        )
        elapsed = time.perf_counter() - started
    sent = len(requests.get(f"{url}/_sandbox/requests", timeout=30).json())
    refused = requests.get(f"{url}/_sandbox/health", timeout=5).json()["rate_limited"]
    return sent / elapsed * 60, refused
