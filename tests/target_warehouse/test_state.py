"""State is emitted only after the rows before it are committed, and regularly."""

import json
import random
import subprocess
import tempfile
import time
from pathlib import Path

from tests.target_warehouse.singer import TARGET, record, rows, run_target, schema, state

PROPS = {"id": {"type": "integer"}, "payload": {"type": ["null", "string"]}}


def _stream(start: int, stop: int) -> list:
    messages: list = [schema("events", PROPS)]
    for i in range(start, stop):
        messages.append(record("events", {"id": i, "payload": "x" * 200}))
        if i % 50 == 49:
            messages.append(state({"bookmarks": {"events": {"last_id": i}}}))
    messages.append(state({"bookmarks": {"events": {"last_id": stop - 1}}}))
    return messages


def test_state_is_flushed_during_a_long_run_not_only_at_the_end(db, target_config):
    target_config.update(state_flush_max_rows=500, batch_size_rows=200)
    run = run_target(target_config, _stream(0, 3000))
    assert run.returncode == 0, run.stderr
    positions = [s["bookmarks"]["events"]["last_id"] for s in run.states]
    assert len(positions) >= 5
    assert positions == sorted(positions) and positions[-1] == 2999


def _run_and_kill(config: dict, messages: list, sent: int, delay: float) -> list[dict]:
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


def test_killed_target_never_emitted_state_ahead_of_committed_rows(db, target_config):
    """SIGKILL at random points: every emitted bookmark is covered by committed rows."""
    schema_name = target_config["default_target_schema"]
    target_config.update(state_flush_max_rows=300, batch_size_rows=120)
    rng = random.Random(7)
    total = 4000
    messages = _stream(0, total)
    killed_with_state = 0
    for attempt in range(6):
        seen = _run_and_kill(target_config, messages, rng.randint(500, 4000), rng.uniform(0.6, 1.6))
        killed_with_state += bool(seen)
        last = seen[-1]["bookmarks"]["events"]["last_id"] if seen else -1
        landed = {r["id"] for r in rows(db, schema_name, "events")}
        assert set(range(last + 1)) <= landed, f"attempt {attempt}: state ran ahead of data"
        resumed = run_target(target_config, _stream(last + 1, total))
        assert resumed.returncode == 0, resumed.stderr
        landed_rows = rows(db, schema_name, "events")
        assert [r["id"] for r in landed_rows] == list(range(total)), "no gap, no duplicate"
        with db.cursor() as cursor:
            cursor.execute(f'TRUNCATE "{schema_name}".events')
    assert killed_with_state >= 2, "too few kills landed after a state was emitted"
