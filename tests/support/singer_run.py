"""Run a tap as its users do (the console script, a config file) and read what it emitted."""

from __future__ import annotations

import decimal
import json
import os
import subprocess
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any


@dataclass
class TapRun:
    """Exit code, Singer messages by type, and stderr of one tap run."""

    returncode: int
    stderr: str
    messages: list[dict] = field(default_factory=list)
    catalog: dict | None = None
    """The catalog the tap was given, if any."""

    def records(self, stream: str) -> list[dict]:
        return [
            m["record"] for m in self.messages if m["type"] == "RECORD" and m["stream"] == stream
        ]

    def schema(self, stream: str) -> dict:
        return next(m for m in self.messages if m["type"] == "SCHEMA" and m["stream"] == stream)

    @property
    def states(self) -> list[dict]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def final_state(self) -> dict:
        return self.states[-1]

    def error_lines(self, tap: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"{tap}: error:")]


def catalog_selecting(executable: str, config_path: Path, streams: list[str]) -> dict:
    """The tap's discovered catalog with only `streams` selected."""
    found = subprocess.run(
        [executable, "--config", str(config_path), "--discover"],
        capture_output=True,
        check=True,
        timeout=120,
    )
    catalog = json.loads(found.stdout)
    for entry in catalog["streams"]:
        for metadata in entry["metadata"]:
            if not metadata["breadcrumb"]:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return catalog


def run_tap(
    tap: str,
    config: dict[str, Any],
    *args: str,
    state: dict | None = None,
    select: list[str] | None = None,
    timeout: float = 300,
    catalog: dict | None = None,
) -> TapRun:
    """Run `tap` with `config` (and `state`; only the `select` streams, or the `catalog`
    given), return its messages."""
    executable = str(Path(sys.executable).with_name(tap))
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config))
        command = [executable, "--config", str(config_path), *args]
        if select is not None:
            catalog = catalog_selecting(executable, config_path, select)
        if catalog is not None:
            catalog_path = Path(folder) / "catalog.json"
            catalog_path.write_text(json.dumps(catalog))
            command += ["--catalog", str(catalog_path)]
        if state is not None:
            state_path = Path(folder) / "state.json"
            state_path.write_text(json.dumps(state))
            command += ["--state", str(state_path)]
        done = subprocess.run(command, capture_output=True, timeout=timeout, check=False)
    messages = []
    for line in done.stdout.decode().splitlines():
        if line.startswith("{"):
            messages.append(json.loads(line, parse_float=decimal.Decimal))
    return TapRun(done.returncode, done.stderr.decode(), messages, catalog)


@dataclass
class PipeRun:
    """How `tap | target-warehouse` ended, and everything both wrote."""

    tap_returncode: int
    target_returncode: int
    output: str
    """The tap's stderr, then the target's stdout and stderr."""
    final_state: dict | None = None
    """The last state the target emitted (committed)."""


def run_pipeline(
    tap: str,
    tap_config: dict[str, Any] | str,
    target_config: dict[str, Any],
    env: dict[str, str] | None = None,
    timeout: float = 600,
    state: dict | None = None,
) -> PipeRun:
    """`tap | target-warehouse` as Meltano pipes them (`tap_config` as JSON text, or a dict;
    the tap given `state`); the tap's stderr goes to a file, so a talkative tap cannot block
    on a full pipe."""
    binaries = Path(sys.executable).parent
    environment = {**os.environ, **(env or {})}
    with tempfile.TemporaryDirectory() as folder:
        tap_path, target_path = Path(folder) / "tap.json", Path(folder) / "target.json"
        tap_path.write_text(tap_config if isinstance(tap_config, str) else json.dumps(tap_config))
        target_path.write_text(json.dumps(target_config))
        state_arguments = []
        if state is not None:
            state_path = Path(folder) / "state.json"
            state_path.write_text(json.dumps(state))
            state_arguments = ["--state", str(state_path)]
        with open(Path(folder) / "tap.log", "wb") as tap_log:
            extract = subprocess.Popen(
                [str(binaries / tap), "--config", str(tap_path), *state_arguments],
                stdout=subprocess.PIPE,
                stderr=tap_log,
                env=environment,
            )
            load = subprocess.run(
                [str(binaries / "target-warehouse"), "--config", str(target_path)],
                stdin=extract.stdout,
                capture_output=True,
                env=environment,
                timeout=timeout,
            )
            extract.wait()
        output = (Path(folder) / "tap.log").read_bytes() + load.stdout + load.stderr
    states = [json.loads(line) for line in load.stdout.decode().splitlines() if line.strip()]
    return PipeRun(
        extract.returncode,
        load.returncode,
        output.decode(errors="replace"),
        states[-1] if states else None,
    )


def meltano_executable() -> str:
    """Meltano from `MELTANO` or the Makefile's `.venv-meltano`; the test skips, saying so,
    where neither exists."""
    import pytest

    executable = os.environ.get("MELTANO") or str(
        Path(__file__).resolve().parents[2] / ".venv-meltano" / "bin" / "meltano"
    )
    if not Path(executable).exists():
        pytest.skip("Meltano is not installed (make test installs it in .venv-meltano)")
    return executable
