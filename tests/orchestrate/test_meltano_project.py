"""orchestrate.meltano_project: reads of the Meltano project (each a `meltano` process) are
made once and may run side by side; a failed one is one line saying what Meltano said."""

from __future__ import annotations

import json
import time

from orchestrate.meltano_project import MeltanoProject, at_once, meltano_reason


def counting_meltano(folder):
    """A stand-in `meltano` that notes each call and prints the jobs Meltano would."""
    script = folder / "meltano"
    jobs = {"jobs": [{"job_name": "erp", "tasks": ["tap-legacy-erp target-warehouse"]}]}
    script.write_text(
        f"#!/bin/sh\necho \"$@\" >> {folder / 'calls'}\necho 'noise'\necho '{json.dumps(jobs)}'\n"
    )
    script.chmod(0o755)
    return MeltanoProject(folder, str(script), "sandbox", {})


def test_a_read_is_made_once_per_project(tmp_path):
    project = counting_meltano(tmp_path)
    assert project.jobs() == project.jobs()
    assert project.jobs()[0].name == "erp"
    assert (tmp_path / "calls").read_text().splitlines() == [
        "--environment=sandbox job list --format=json"
    ]


def test_reads_at_once_keep_their_order_and_overlap():
    def read(value, seconds):
        return lambda: time.sleep(seconds) or value

    started = time.perf_counter()
    assert at_once(read("a", 0.4), read("b", 0.1), read("c", 0.4)) == ["a", "b", "c"]
    assert time.perf_counter() - started < 0.8


def test_the_reason_is_meltanos_last_error_not_its_request_for_help():
    stderr = (
        "2026-12-03T09:16:32Z [info     ] meltano      Meltano 4.4.1\n"
        "2026-12-03T09:16:32Z [error    ] meltano      table job already exists\n"
        "OperationalError: table job already exists\n"
        "2026-12-03T09:16:33Z [error    ] meltano      Cannot upgrade the system database.\n"
        "2026-12-03T09:16:33Z [info     ] meltano      Need help fixing this problem? Visit …\n"
    )
    assert meltano_reason(stderr) == "Cannot upgrade the system database."
    assert meltano_reason("Error: no such option\n\n") == "Error: no such option"
    assert meltano_reason("") == "no output"
