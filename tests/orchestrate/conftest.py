"""What the orchestrate tests share: a Meltano project in the sandbox environment that
loads into schemas of the test's own, and the sync-history rows of a run."""

from __future__ import annotations

import os
import uuid

import pytest
from orchestrate.meltano_project import MeltanoProject

TAPS = ("tap-arrivy", "tap-callrail", "tap-genius", "tap-legacy-erp")


def project_for(installed, tmp_path, warehouse_url: str, schemas: dict[str, str], **env):
    """The installed project in `sandbox`, its state in a SQLite file of the test's own,
    each tap loading into its schema of `schemas`, the history in a schema of its own."""
    history = f"h_{uuid.uuid4().hex[:8]}"
    environment = {
        **os.environ,
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_DATABASE_URI": f"sqlite:///{tmp_path / 'meltano.db'}",
        "TARGET_WAREHOUSE_SQLALCHEMY_URL": warehouse_url,
        "TARGET_WAREHOUSE_HISTORY_SCHEMA": history,
        **{f"{tap.upper().replace('-', '_')}__LOAD_SCHEMA": s for tap, s in schemas.items()},
        **env,
    }
    return MeltanoProject(installed.folder, installed.executable, "sandbox", environment), history


def history_rows(db, history: str, run_id: str) -> dict[str, dict]:
    with db.cursor() as cursor:
        cursor.execute(
            "SELECT sync_type, status, records_processed, records_created, records_updated, "
            f'records_failed, performance_metrics, error_message FROM "{history}".sync_history '
            "WHERE meltano_run_id = %s ORDER BY start_time",
            (run_id,),
        )
        names = [d[0] for d in cursor.description]
        return {row[0]: dict(zip(names, row, strict=True)) for row in cursor.fetchall()}


@pytest.fixture
def schemas(db):
    """A fresh load schema per tap; dropped after the test."""
    names = {tap: f"{tap[4:7]}_{uuid.uuid4().hex[:8]}" for tap in TAPS}
    yield names
    with db.cursor() as cursor:
        for name in names.values():
            cursor.execute(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    db.commit()
