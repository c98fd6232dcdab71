"""The repository's Meltano project, installed once per session (`meltano_installed`), as
one test runs it: the `sandbox` environment, its state in a system database of the test's
own, the pipeline's tap loading into the test's schema."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.support.pipelines import Pipeline
from tests.support.singer_run import run_pipeline


@dataclass
class Installed:
    """The project copied to a folder of its own and `meltano install`ed there."""

    executable: str
    folder: Path


class Project:
    """The repository's Meltano project with a throwaway system database."""

    def __init__(self, installed: Installed, folder: Path, pipeline: Pipeline, url: str) -> None:
        self.executable = installed.executable
        self.project = installed.folder
        self.pipeline = pipeline
        self.url = url
        extractor = f"TAP_{pipeline.source.upper().replace('-', '_')}"
        folders = (Path(self.executable).parent, Path(sys.executable).parent)
        path = os.pathsep.join(str(folder) for folder in folders)
        self.env = {
            **os.environ,
            # `meltano` and `dagster` as a user's shell finds them, for commands run as typed
            "PATH": f"{path}{os.pathsep}{os.environ['PATH']}",
            "MELTANO": self.executable,
            "MELTANO_PROJECT_ROOT": str(self.project),
            "MELTANO_ENVIRONMENT": "sandbox",
            "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            "MELTANO_DATABASE_URI": f"sqlite:///{folder / 'meltano.db'}",
            "TARGET_WAREHOUSE_SQLALCHEMY_URL": url,
            "TARGET_WAREHOUSE_HISTORY_SCHEMA": f"{pipeline.schema}_history",
            f"{extractor}__LOAD_SCHEMA": pipeline.schema,
            **pipeline.env,
        }

    def meltano(self, *args: str) -> subprocess.CompletedProcess:
        done = subprocess.run(
            [self.executable, *args],
            cwd=self.project,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, done.stderr[-4000:]
        return done

    def run(self, *flags: str) -> None:
        self.meltano("run", *flags, f"tap-{self.pipeline.source}", "target-warehouse")

    def pin_catalog(self, path: Path) -> Path:
        """Make the tap's catalog now and have every later run use it (the plugin's
        `catalog` extra), as Meltano's cache does for a tap installed from an index."""
        tap = f"tap-{self.pipeline.source}"
        path.write_text(self.meltano("invoke", "--dump=catalog", tap).stdout)
        self.env[f"{tap.upper().replace('-', '_')}__CATALOG"] = str(path)
        return path

    def state(self) -> dict:
        state_id = f"sandbox:tap-{self.pipeline.source}-to-target-warehouse"
        return json.loads(self.meltano("state", "get", state_id).stdout)

    def standalone(self, schema: str) -> None:
        """The tap alone with the config JSON Meltano generates, piped into the target."""
        tap = f"tap-{self.pipeline.source}"
        config = self.meltano("invoke", "--dump=config", tap).stdout
        target = {
            "sqlalchemy_url": self.url,
            "default_target_schema": schema,
            "history_schema": f"{schema}_history",
        }
        run = run_pipeline(tap, config, target)
        assert run.tap_returncode == 0 and run.target_returncode == 0, run.output[-3000:]

    def shell(self, command: str, cwd: Path) -> subprocess.CompletedProcess:
        """A command line as a user types it in the project (`meltano run …`, `dagster …`),
        run in `cwd`; it must succeed."""
        done = subprocess.run(
            ["bash", "-c", command],
            cwd=cwd,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=900,
        )
        assert done.returncode == 0, f"{command}\n{done.stderr[-4000:]}"
        return done
