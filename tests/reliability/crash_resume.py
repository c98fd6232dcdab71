"""Crash and resume: kill the tap or the target with SIGKILL at random points of a large sync,
run again from the saved state, and check that the warehouse equals the source exactly.

The driver keeps state as Meltano does: it stores every STATE line the target writes (the
target writes one only after the rows before it are committed), and the next run starts
from the last one. Each trial: a fresh schema, a run killed after a seeded random share of
the unkilled run's duration (the tap or the target, also seeded), a second run to the end,
then the comparison (count, keys and a value per key for each checked table) and the sync
history (the killed run's rows end `failed`, or `success` when the tap was killed: the
target then saw a normal end of input and committed everything it had been sent).

    python tests/reliability/crash_resume.py --trials 20                 # every pipeline
    python tests/reliability/crash_resume.py --pipelines legacy-erp --trials 5
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import threading
import time
import typing as t
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import psycopg2
import sqlalchemy as sa

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sandbox import genius, mariadb, warehouse  # noqa: E402
from sandbox.arrivy import ArrivyStandIn  # noqa: E402
from sandbox.callrail import CallRailStandIn  # noqa: E402
from sandbox.legacy_erp import LegacyErpStandIn  # noqa: E402
from tests.support.pipelines import (  # noqa: E402
    Pipeline,
    arrivy_pipeline,
    assert_equal_to_source,
    callrail_pipeline,
    erp_pipeline,
    genius_pipeline,
)

BIN = Path(sys.executable).parent


@dataclass
class Trial:
    pipeline: str
    seed: int
    victim: str
    killed_after: float
    killed: bool
    """False when the run ended before the kill came."""
    equal: bool
    history: Counter[str]
    """Statuses of the history rows after the resumed run."""
    left_running: int
    """Rows the killed run left `running` (before the resumed run marked them)."""


@dataclass
class Outcome:
    """How one `tap | target-warehouse` run ended."""

    killed: bool
    """Whether the kill landed before the run ended."""
    returncode: int
    """The target's exit code."""
    errors: str
    """What the target wrote to stderr."""


def run(
    pipeline: Pipeline,
    url: str,
    state: Path,
    kill: tuple[str, float] | None = None,
    during: t.Callable[[], None] | None = None,
) -> Outcome:
    """`tap | target-warehouse` from `state`, saving each STATE the target writes; with
    `kill`, SIGKILL the tap or the target after that many seconds; `during` runs while the
    pipeline does (e.g. an outage)."""
    with tempfile.TemporaryDirectory() as folder:
        tap_path, target_path = Path(folder) / "tap.json", Path(folder) / "target.json"
        tap_path.write_text(json.dumps(pipeline.tap_config))
        target_path.write_text(
            json.dumps(
                {
                    **warehouse.target_config(url),
                    "default_target_schema": pipeline.schema,
                    "history_schema": f"{pipeline.schema}_history",
                    "source_name": pipeline.source,
                    "batch_size_rows": 2000,
                }
            )
        )
        command = [str(BIN / f"tap-{pipeline.source}"), "--config", str(tap_path)]
        if state.exists():
            command += ["--state", str(state)]
        errors_path = Path(folder) / "target.log"
        tap = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
        with open(errors_path, "wb") as errors:
            target = subprocess.Popen(
                [str(BIN / "target-warehouse"), "--config", str(target_path)],
                stdin=tap.stdout,
                stdout=subprocess.PIPE,
                stderr=errors,
            )
        assert tap.stdout is not None and target.stdout is not None
        tap.stdout.close()  # the tap gets a broken pipe when the target dies, as in Meltano
        saver = threading.Thread(target=_save_states, args=(target.stdout, state))
        saver.start()
        landed = False
        if during is not None:
            during()
        if kill is not None:
            victim, seconds = kill
            process = tap if victim == "tap" else target
            try:
                process.wait(timeout=seconds)
            except subprocess.TimeoutExpired:
                process.send_signal(signal.SIGKILL)
                landed = True
        tap.wait()
        target.wait()
        saver.join()
        return Outcome(landed, target.returncode, errors_path.read_text(errors="replace"))


def _save_states(stream: t.IO[bytes], state: Path) -> None:
    for line in stream:
        if line.strip():
            state.write_bytes(line)


def history_statuses(url: str, pipeline: Pipeline) -> Counter[str]:
    with contextlib.closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
        cursor.execute("SELECT to_regclass(%s)", (f'"{pipeline.schema}_history".sync_history',))
        if cursor.fetchone()[0] is None:
            return Counter()
        cursor.execute(f'SELECT status FROM "{pipeline.schema}_history".sync_history')
        return Counter(row[0] for row in cursor.fetchall())


def drop(url: str, pipeline: Pipeline) -> None:
    with contextlib.closing(psycopg2.connect(url)) as connection, connection.cursor() as cursor:
        connection.autocommit = True
        for schema in (pipeline.schema, f"{pipeline.schema}_history"):
            cursor.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')


def trial(
    make: t.Callable[[], Pipeline],
    url: str,
    seed: int,
    duration: float,
    victim: str | None = None,
) -> Trial:
    """One kill at a seeded point (of the tap or the target, seeded unless `victim` is
    given), then a resume, then the comparison."""
    rng = random.Random(seed)
    drawn = rng.choice(["tap", "target"])
    victim = victim or drawn
    after = rng.uniform(0.05, 0.95) * duration
    pipeline = make()
    with tempfile.TemporaryDirectory() as folder:
        state = Path(folder) / "state.json"
        killed = run(pipeline, url, state, (victim, after)).killed
        left_running = history_statuses(url, pipeline)["running"]
        run(pipeline, url, state)
    with contextlib.closing(psycopg2.connect(url)) as db:
        try:
            assert_equal_to_source(db, pipeline.schema, pipeline)
            equal = True
        except (AssertionError, psycopg2.Error):
            equal = False
    statuses = history_statuses(url, pipeline)
    drop(url, pipeline)
    return Trial(
        pipeline.source, seed, victim, round(after, 2), killed, equal, statuses, left_running
    )


def timed_full_run(make: t.Callable[[], Pipeline], url: str) -> float:
    """Seconds of an unkilled run: the range the kill points are drawn from."""
    pipeline = make()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        run(pipeline, url, Path(folder) / "state.json")
        seconds = time.perf_counter() - started
    drop(url, pipeline)
    return seconds


@contextlib.contextmanager
def sources(names: list[str], scale: int) -> t.Iterator[dict[str, t.Callable[[], Pipeline]]]:
    """The stand-ins (and MariaDB for Genius) for a large sync; per name, a factory of
    fresh pipelines against them."""
    servers: list[t.Any] = []
    made: dict[str, t.Callable[[], Pipeline]] = {}
    with tempfile.TemporaryDirectory() as folder:
        database = None
        try:
            if "legacy-erp" in names:
                erp = LegacyErpStandIn(documents=scale).start()
                servers.append(erp)
                made["legacy-erp"] = lambda: erp_pipeline(erp)
            if "callrail" in names:
                calls = CallRailStandIn(calls_per_account=scale).start()
                servers.append(calls)
                made["callrail"] = lambda: callrail_pipeline(calls)
            if "arrivy" in names:
                tasks = ArrivyStandIn(tasks=max(scale // 10, 50)).start()
                servers.append(tasks)
                made["arrivy"] = lambda: arrivy_pipeline(tasks)
            if "genius" in names:
                database = mariadb.start(Path(folder) / "mariadb")
                engine = sa.create_engine(database.url)
                genius.seed(engine, appointments=scale * 3)
                made["genius"] = lambda: genius_pipeline(engine, database.url)
            yield made
        finally:
            for server in servers:
                server.stop()
            if database is not None:
                database.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--pipelines", nargs="+", default=["legacy-erp", "callrail", "genius", "arrivy"]
    )
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--scale", type=int, default=3000, help="documents / calls per account")
    parser.add_argument("--url", help="warehouse URL (default: the embedded one)")
    args = parser.parse_args()
    url = (
        args.url
        or os.environ.get("WAREHOUSE_TEST_URL")
        or warehouse.start(ROOT / ".warehouse" / "crash-pgdata", stop_at_exit=True)
    )
    print(f"{'pipeline':<11}{'trials':>7}{'killed':>7}{'equal':>7}  killed runs in history")
    with sources(args.pipelines, args.scale) as made:
        for name in args.pipelines:
            duration = timed_full_run(made[name], url)
            trials = [trial(made[name], url, seed, duration) for seed in range(args.trials)]
            statuses = sum((t.history for t in trials), Counter())
            print(
                f"{name:<11}{len(trials):>7}{sum(t.killed for t in trials):>7}"
                f"{sum(t.equal for t in trials):>7}  {dict(statuses)} "
                f"(unkilled run {duration:.1f} s)",
                flush=True,
            )
            for failed in (t for t in trials if not t.equal):
                print(
                    f"  NOT EQUAL: seed {failed.seed}, {failed.victim} at {failed.killed_after} s"
                )


if __name__ == "__main__":
    main()
