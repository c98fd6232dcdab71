"""Benchmark the Dagster adapter against plain Meltano, on the CallRail stand-in.

1. Overhead: one CallRail pipeline (N calls per account, 4 accounts, no rate limit) run as
   `meltano run tap-callrail target-warehouse`, then as the Dagster job `callrail`
   (`execute_in_process`, with the definitions built from meltano.yml first), each from
   empty state into a schema of its own. Printed: wall seconds and the ratio.
2. Scale-out: the stand-in limits each account to R requests a minute and the tap is told
   the same R. One unpartitioned `callrail` run against the four partitions of
   `callrail_by_account` started at once (one process each, as Dagster's run workers are).
   Printed: wall seconds and the speed-up.

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
import sys
import dagster as dg
from orchestrate.definitions import defs
job = defs.resolve_job_def("callrail_by_account")
result = job.execute_in_process(
    instance=dg.DagsterInstance.ephemeral(),
    partition_key=sys.argv[1],
    raise_on_error=False,
)
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


def timed(run) -> float:
    started = time.perf_counter()
    run()
    return time.perf_counter() - started


def plain_meltano(meltano: MeltanoProject) -> None:
    outcome = meltano.run(["tap-callrail", "target-warehouse"], run_id=str(uuid.uuid4()))
    if outcome.returncode != 0:
        sys.exit("meltano run failed:\n" + "\n".join(outcome.stderr_tail[-20:]))


def through_dagster(meltano: MeltanoProject, job: str = "callrail") -> None:
    result = (
        build_definitions(meltano)
        .resolve_job_def(job)
        .execute_in_process(
            instance=dg.DagsterInstance.ephemeral(), run_config=QUIET, raise_on_error=False
        )
    )
    if not result.success:
        sys.exit(f"the Dagster job {job} failed")


def partitions_at_once(meltano: MeltanoProject, accounts: list[str], folder: Path) -> None:
    logs = {account: folder / f"partition-{account}.log" for account in accounts}
    workers = {
        account: subprocess.Popen(
            [sys.executable, "-c", PARTITION_RUN, account],
            env=meltano.env,
            stdout=subprocess.DEVNULL,
            stderr=logs[account].open("w"),
        )
        for account in accounts
    }
    failed = [account for account, worker in workers.items() if worker.wait() != 0]
    if failed:
        tail = logs[failed[0]].read_text()[-3000:]
        sys.exit(f"partition {failed[0]} failed (log {logs[failed[0]]}):\n{tail}")


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
        plain = timed(lambda: plain_meltano(project(url, server, folder)))
        dagster = timed(lambda: through_dagster(project(url, server, folder)))
        print(f"calls: {args.calls} x {ACCOUNTS} accounts   machine: {os.cpu_count()} cores")
        print(f"{'run':<52}{'seconds':>9}")
        print(f"{'meltano run tap-callrail target-warehouse':<52}{plain:>9.1f}")
        print(f"{'Dagster job callrail (definitions + run)':<52}{dagster:>9.1f}")
        print(f"Dagster / plain Meltano: {dagster / plain:.2f}x")

        limits = {"limits": [{"requests": args.rate, "seconds": 60}]}
        requests.post(f"{server.url}/_sandbox/rate-limits", json=limits, timeout=5)
        limited = {
            "TAP_CALLRAIL_REQUESTS_PER_MINUTE": str(args.rate),
            "TAP_CALLRAIL_PAGE_SIZE": "100",
        }
        whole = timed(lambda: through_dagster(project(url, server, folder, **limited)))
        split = timed(lambda: partitions_at_once(project(url, server, folder, **limited), accounts, folder))
        print(f"rate limit: {args.rate} requests a minute per account, pages of 100")
        print(f"{'Dagster job callrail, unpartitioned':<52}{whole:>9.1f}")
        print(f"{f'callrail_by_account, {ACCOUNTS} partitions at once':<52}{split:>9.1f}")
        print(f"speed-up: {whole / split:.2f}x")
    finally:
        server.stop()


if __name__ == "__main__":
    main()
