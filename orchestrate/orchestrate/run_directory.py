"""A Meltano system directory of each run's own, so two runs of one extractor share no files.

`meltano run` writes an extractor's catalog to `.meltano/run/<extractor>/tap.properties.json`,
one path for every run of that extractor in the project (meltano/meltano#8763, still open).
Two runs of it at once (two CallRail partitions, or a partition beside the unpartitioned
job: their state IDs differ, so the queue lets them run together) rewrite and delete each
other's catalog, and a tap starts on a half-written or missing file.

So each try of a Dagster step runs with `MELTANO_SYS_DIR_ROOT` pointing at a directory of its
own. Its `run/` is private; every other entry links to the project's `.meltano` (the
installed plugins' virtual environments, the project ID), so nothing is installed twice.
The system database stays the project's: `MELTANO_DATABASE_URI` is set to the one Meltano
resolved before the directory moved, so state and Meltano's running-job check are shared as
before. The directory is removed when the try ends. The catalog is discovered afresh each
try, since its cache lived in the shared `run/` (about a second per run for these taps).
"""

from __future__ import annotations

import contextlib
import shutil
import tempfile
import typing as t
from pathlib import Path

from orchestrate.meltano_project import MeltanoProject

SYS_DIR_VARIABLE = "MELTANO_SYS_DIR_ROOT"
DATABASE_VARIABLE = "MELTANO_DATABASE_URI"
PRIVATE = {"run"}
"""Entries of the system directory each run keeps to itself."""
DATABASE_FILES = ("meltano.db", "meltano.db-journal", "meltano.db-wal", "meltano.db-shm")
"""The default SQLite system database and its side files: never linked (SQLite puts its
journal beside the path it opened, so a link would split one database's locking in two);
the database is reached through `MELTANO_DATABASE_URI` instead."""


def shared_sys_dir(project: MeltanoProject) -> Path:
    """The project's own system directory: `MELTANO_SYS_DIR_ROOT`, else `.meltano`."""
    configured = project.env.get(SYS_DIR_VARIABLE)
    return Path(configured) if configured else project.folder / ".meltano"


@contextlib.contextmanager
def private_sys_dir(project: MeltanoProject, label: str) -> t.Iterator[dict[str, str]]:
    """The environment a run needs to use a system directory of its own (see the module
    docstring); the directory lives under the shared one's `run/dagster/` until the block
    ends. `label` (the Dagster run ID) names it, for whoever looks while it runs."""
    shared = shared_sys_dir(project).resolve()
    database = project.database_uri()
    parent = shared / "run" / "dagster"
    parent.mkdir(parents=True, exist_ok=True)
    own = Path(tempfile.mkdtemp(prefix=f"{label[:8]}-", dir=parent))
    try:
        for entry in shared.iterdir():
            if entry.name not in PRIVATE and entry.name not in DATABASE_FILES:
                (own / entry.name).symlink_to(entry)
        yield {SYS_DIR_VARIABLE: str(own), DATABASE_VARIABLE: database}
    finally:
        shutil.rmtree(own, ignore_errors=True)
