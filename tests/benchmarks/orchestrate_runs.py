"""Benchmark the Dagster adapter against plain Meltano, on the CallRail stand-in.

1. Overhead: one CallRail pipeline (N calls per account, 4 accounts, no rate limit) run as
   `meltano run tap-callrail target-warehouse`, then as the Dagster job `callrail`
   (`execute_in_process`, with the definitions built from meltano.yml first), each from
   empty state into a schema of its own. Printed: wall seconds and the ratio.
2. Scale-out: the stand-in limits each account to R requests a minute and the tap is told
   the same R. One unpartitioned `callrail` run against the four partitions of
   `callrail_by_account` started at once (one process each, as Dagster's run workers are).
   Printed: wall seconds (each worker's start included: Python, Dagster, and meltano.yml
   read through Meltano), the runs' own seconds, and the speed-up of each.

    python tests/benchmarks/orchestrate_runs.py --calls 2000 --rate 120
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import dagster as dg
import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from orchestrate.definitions import build_definitions  # noqa: E402
from orchestrate.meltano_project import MeltanoProject  # noqa: E402

from sandbox import warehouse  # noqa: E402
from sandbox.callrail import CallRailStandIn  # noqa: E402

ACCOUNTS = 4
QUIET = {"loggers": {"console": {"config": {"log_level": "WARNING"}}}}
PARTITION_RUN = """
import sys, time
import dagster as dg
from orchestrate.definitions import defs
job = defs.resolve_job_def("callrail_by_account")
started = time.perf_counter()
result = job.execute_in_process(
    instance=dg.DagsterInstance.ephemeral(),
    partition_key=sys.argv[1],
    raise_on_error=False,
)
print(time.perf_counter() - started)
sys.exit(0 if result.success else 1)
"""


def project(url: str, server: CallRailStandIn, folder: Path, **env: str) -> MeltanoProject:
    """The repository's Meltano project in `sandbox`, its state and load schema fresh."""
    schema = f"bench_{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{folder / f'{schema}.db'}",
        "MELTANO_PROJECT_ROOT": str(ROOT),
        "MELTANO_ENVIRONMENT": "sandbox",
        "SANDBOX_CALLRAIL_URL": server.url,
        "SANDBOX_CALLRAIL_API_KEY": "sandbox-callrail-key",
        "TAP_CALLRAIL_START_DATE": "2000-01-01T00:00:00Z",
        "TAP_CALLRAIL_ACCOUNT_IDS": json.dumps(sorted(server.accounts)),
        "TAP_CALLRAIL__LOAD_SCHEMA": schema,
        "TARGET_WAREHOUSE_SQLALCHEMY_URL": url,
        **env,
    }
    executable = os.environ.get("MELTANO") or str(ROOT / ".venv-meltano" / "bin" / "meltano")
    return MeltanoProject(ROOT, executable, "sandbox", environment)


def ready(meltano: MeltanoProject) -> MeltanoProject:
    """The project with its Meltano system database created, as a deployed code location
    has it before any run starts (Meltano processes that start together on a new database
    race to create it)."""
    MeltanoProject(meltano.folder, meltano.executable, meltano.environment, meltano.env).jobs()
    return meltano


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def plain_meltano(meltano: MeltanoProject) -> None:
    outcome = meltano.run(["tap-callrail", "target-warehouse"], run_id=str(uuid.uuid4()))
    if outcome.returncode != 0:
        sys.exit("meltano run failed:\n" + "\n".join(outcome.stderr_tail[-20:]))


def through_dagster(meltano: MeltanoProject, job: str = "callrail") -> float:
    """Build the definitions and run the job, as a run worker does; the run's seconds."""
    definition = build_definitions(meltano).resolve_job_def(job)
    started = time.perf_counter()
    result = definition.execute_in_process(
        instance=dg.DagsterInstance.ephemeral(), run_config=QUIET, raise_on_error=False
    )
    if not result.success:
        sys.exit(f"the Dagster job {job} failed")
    return time.perf_counter() - started


def partitions_at_once(meltano: MeltanoProject, accounts: list[str], folder: Path) -> float:
    """Each partition in a process of its own, all started at once, as run workers are;
    the longest run's seconds (without the worker's start)."""
    logs = {account: folder / f"partition-{account}.log" for account in accounts}
    workers = {
        account: subprocess.Popen(
            [sys.executable, "-c", PARTITION_RUN, account],
            env=meltano.env,
            stdout=subprocess.PIPE,
            stderr=logs[account].open("w"),
            text=True,
        )
        for account in accounts
    }
    outputs = {account: worker.communicate()[0] for account, worker in workers.items()}
    failed = [account for account, worker in workers.items() if worker.returncode != 0]
    if failed:
        tail = logs[failed[0]].read_text()[-3000:]
        sys.exit(f"partition {failed[0]} failed (log {logs[failed[0]]}):\n{tail}")
    return max(float(output.split()[-1]) for output in outputs.values())


def timed_with_run(run) -> tuple[float, float]:
    """Wall seconds of `run`, and the seconds it says its runs took."""
    started = time.perf_counter()
    run_seconds = run()
    return time.perf_counter() - started, run_seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=2000, help="calls per account")
    parser.add_argument("--rate", type=int, default=120, help="requests a minute per account")
    args = parser.parse_args()
    url = os.environ.get("WAREHOUSE_TEST_URL") or warehouse.start(
        ROOT / ".warehouse" / "bench-pgdata", stop_at_exit=True
    )
    server = CallRailStandIn(accounts=ACCOUNTS, calls_per_account=args.calls).start()
    accounts = sorted(server.accounts)
    folder = Path(tempfile.mkdtemp(prefix="orchestrate-bench-"))
    try:
        subprocess.run(
            [project(url, server, folder).executable, "install"],
            cwd=ROOT, env=project(url, server, folder).env, check=True, capture_output=True,
        )  # fmt: skip
        plain_project, dagster_project = (ready(project(url, server, folder)) for _ in "ab")
        plain = timed(lambda: plain_meltano(plain_project))
        dagster, dagster_run = timed_with_run(lambda: through_dagster(dagster_project))
        print(f"calls: {args.calls} x {ACCOUNTS} accounts   machine: {os.cpu_count()} cores")
        print(f"{'run':<52}{'seconds':>9}")
        print(f"{'meltano run tap-callrail target-warehouse':<52}{plain:>9.1f}")
        print(f"{'Dagster job callrail (definitions + run)':<52}{dagster:>9.1f}")
        print(f"{'  of which the run':<52}{dagster_run:>9.1f}")
        ratios = f"{dagster / plain:.2f}x, the run alone {dagster_run / plain:.2f}x"
        print(f"Dagster / plain Meltano: {ratios}")

        limits = {"limits": [{"requests": args.rate, "seconds": 60}]}
        requests.post(f"{server.url}/_sandbox/rate-limits", json=limits, timeout=5)
        limited = {
            "TAP_CALLRAIL_REQUESTS_PER_MINUTE": str(args.rate),
            "TAP_CALLRAIL_PAGE_SIZE": "100",
        }
        whole_project, split_project = (
            ready(project(url, server, folder, **limited)) for _ in "ab"
        )
        whole, whole_run = timed_with_run(lambda: through_dagster(whole_project))
        split, split_run = timed_with_run(
            lambda: partitions_at_once(split_project, accounts, folder)
        )
        print(f"rate limit: {args.rate} requests a minute per account, pages of 100")
        print(f"{'':<52}{'seconds':>9}{'of which the run':>18}")
        print(f"{'Dagster job callrail, unpartitioned':<52}{whole:>9.1f}{whole_run:>18.1f}")
        label = f"callrail_by_account, {ACCOUNTS} partitions at once"
        print(f"{label:<52}{split:>9.1f}{split_run:>18.1f}")
        print(f"speed-up: {whole / split:.2f}x wall, {whole_run / split_run:.2f}x the runs alone")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
