"""Meltano's `transform` job (`dbt-postgres:build`) on the story's warehouse: the utility
as meltano.yml declares it, its settings from the `sandbox` environment."""

from __future__ import annotations

import os
import subprocess

import yaml

from sandbox import warehouse
from tests.conftest import ROOT


def test_the_transform_job_builds_the_funnel(meltano_installed, built, tmp_path):
    config = warehouse.target_config(built.url)
    env = {
        **os.environ,
        "MELTANO_ENVIRONMENT": "sandbox",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "SANDBOX_WAREHOUSE_HOST": str(config["host"]),
        "SANDBOX_WAREHOUSE_USER": str(config["user"]),
        "SANDBOX_WAREHOUSE_DATABASE": str(config["database"]),
    }
    built.query("DROP SCHEMA analytics CASCADE")
    done = subprocess.run(
        [meltano_installed.executable, "run", "transform"],
        cwd=meltano_installed.folder, env=env, capture_output=True, text=True, timeout=900,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-4000:]
    assert "ERROR=0" in done.stderr and "PASS=" in done.stderr
    [(rows,)] = built.query("SELECT count(*) FROM analytics.lead_funnel")
    assert rows == built.calls


def test_all_ends_with_the_transform():
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    jobs = {job["name"]: job["tasks"] for job in project["jobs"]}
    assert jobs["transform"] == ["dbt-postgres:build"]
    assert jobs["all"][-1] == "dbt-postgres:build"
    utility = next(u for u in project["plugins"]["utilities"] if u["name"] == "dbt-postgres")
    settings = {s["name"]: s for s in utility["settings"]}
    assert settings["password"]["sensitive"] is True
