"""Screenshots of the Dagster UI for orchestrate/README.md, taken from the real UI in
headless Chromium.

With `make orchestrate` running (dagster dev on 127.0.0.1:3000 over the sandbox), this
launches the `legacy_erp` job through the webserver's GraphQL API, waits for it to end, and
saves its asset group's graph and the run's page under docs/ (Debian's chromium:
`apt-get install chromium`).

    .venv/bin/python docs/dagster_screenshots.py
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

DOCS = Path(__file__).resolve().parent
LOCATION = "orchestrate.definitions"
LAUNCH = """mutation($params: ExecutionParams!) { launchRun(executionParams: $params) {
  __typename ... on LaunchRunSuccess { run { runId } } ... on PythonError { message } } }"""
STATUS = """query($id: ID!) { runOrError(runId: $id) { ... on Run { status } } }"""


def graphql(url: str, query: str, **variables: object) -> dict:
    answer = requests.post(
        f"{url}/graphql", json={"query": query, "variables": variables}, timeout=60
    )
    answer.raise_for_status()
    return answer.json()["data"]


def run_job(url: str, job: str) -> str:
    """Launch `job` and wait until it ends; its run ID."""
    selector = {"repositoryLocationName": LOCATION, "repositoryName": "__repository__"}
    params = {"selector": {**selector, "jobName": job}, "runConfigData": {}}
    launched = graphql(url, LAUNCH, params=params)["launchRun"]
    if launched["__typename"] != "LaunchRunSuccess":
        sys.exit(f"could not launch {job}: {launched}")
    run_id = launched["run"]["runId"]
    while graphql(url, STATUS, id=run_id)["runOrError"]["status"] not in (
        "SUCCESS", "FAILURE", "CANCELED",
    ):  # fmt: skip
        time.sleep(1)
    return run_id


def screenshot(chromium: str, page: str, path: Path) -> None:
    """The page as headless Chromium renders it once its scripts have run."""
    with tempfile.TemporaryDirectory() as profile:
        subprocess.run(
            [
                chromium, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", f"--user-data-dir={profile}",
                "--hide-scrollbars", "--window-size=1600,1000", "--virtual-time-budget=20000",
                f"--screenshot={path}", page,
            ],
            check=True, capture_output=True, timeout=120,
        )  # fmt: skip
    print(f"wrote {path.relative_to(DOCS.parent)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", default="http://127.0.0.1:3000")
    parser.add_argument("--job", default="legacy_erp")
    parser.add_argument("--group", default="legacy_erp", help="the asset group to show")
    args = parser.parse_args()
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    if not chromium:
        sys.exit("no chromium on the PATH: apt-get install chromium")
    run_id = run_job(args.url, args.job)
    group = f"{args.url}/locations/{LOCATION}/asset-groups/{args.group}"
    screenshot(chromium, group, DOCS / "dagster-assets.png")
    screenshot(chromium, f"{args.url}/runs/{run_id}", DOCS / "dagster-run.png")


if __name__ == "__main__":
    main()
