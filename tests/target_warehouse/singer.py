"""Build Singer messages and run target-warehouse as its users do: a process fed on stdin."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import msgspec

# The console script, as Meltano runs it.
TARGET = [str(Path(sys.executable).with_name("target-warehouse"))]


def schema(stream: str, properties: dict[str, Any], keys: list[str] | None = None) -> dict:
    return {
        "type": "SCHEMA",
        "stream": stream,
        "schema": {"type": "object", "properties": properties},
        "key_properties": keys if keys is not None else ["id"],
    }


def record(stream: str, data: dict[str, Any], **extra: Any) -> dict:
    return {"type": "RECORD", "stream": stream, "record": data, **extra}


def state(value: dict[str, Any]) -> dict:
    return {"type": "STATE", "value": value}


def activate_version(stream: str, version: int) -> dict:
    return {"type": "ACTIVATE_VERSION", "stream": stream, "version": version}


_ENCODER = msgspec.json.Encoder(decimal_format="number")


def lines(messages: list[dict | str]) -> str:
    """One JSON line per message; Decimals written as exact JSON numbers, as taps write them."""
    return "".join(
        (m if isinstance(m, str) else _ENCODER.encode(m).decode()) + "\n" for m in messages
    )


@dataclass
class Run:
    returncode: int
    states: list[dict]
    stdout: str
    stderr: str


def run_target(
    config: dict[str, Any],
    messages: list[dict | str] | str | bytes,
    env: dict[str, str] | None = None,
) -> Run:
    """Run the target CLI with `config`, feeding `messages` (extra `env` variables);
    returns the states it emitted."""
    text = messages if isinstance(messages, (str, bytes)) else lines(messages)
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config))
        done = subprocess.run(
            [*TARGET, "--config", str(config_path)],
            input=text if isinstance(text, bytes) else text.encode(),
            capture_output=True,
            timeout=300,
            check=False,
            env={**os.environ, **(env or {})},
        )
    stdout = done.stdout.decode()
    states = [json.loads(line) for line in stdout.splitlines() if line.strip()]
    return Run(done.returncode, states, stdout, done.stderr.decode())


def rows(db: Any, schema_name: str, table: str, order_by: str = "id") -> list[dict]:
    with db.cursor() as cursor:
        cursor.execute(f'SELECT * FROM "{schema_name}"."{table}" ORDER BY {order_by}')
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]


def column_types(db: Any, schema_name: str, table: str) -> dict[str, str]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = %s AND table_name = %s",
            (schema_name, table),
        )
        return dict(cursor.fetchall())


def run_and_kill(config: dict, messages: list, sent: int, delay: float) -> list[dict]:
    """Send the first `sent` messages, SIGKILL the target `delay` s later, return its states."""
    with tempfile.TemporaryDirectory() as folder:
        config_path = Path(folder) / "config.json"
        config_path.write_text(json.dumps(config))
        process = subprocess.Popen(
            [*TARGET, "--config", str(config_path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
        process.stdin.write("".join(json.dumps(m) + "\n" for m in messages[:sent]).encode())
        process.stdin.flush()
        time.sleep(delay)
        process.kill()
        output = process.stdout.read().decode()
        process.wait()
        return [json.loads(line) for line in output.splitlines() if line.strip()]
