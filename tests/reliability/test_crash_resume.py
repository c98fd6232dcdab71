"""A sample of the crash matrix in `make test` (the full one: tests/reliability/crash_resume.py):
the tap or the target is SIGKILLed mid-sync, the next run resumes from the saved state, and
the warehouse equals the source exactly."""

from __future__ import annotations

import pytest

from tests.reliability.crash_resume import sources, timed_full_run, trial

SAMPLE = [("legacy-erp", 1, "target"), ("legacy-erp", 2, "tap"), ("callrail", 3, "target")]
SAMPLE += [("genius", 4, "target"), ("genius", 5, "tap"), ("arrivy", 6, "target")]


@pytest.fixture(scope="module")
def made(mariadb_server):
    """The stand-ins of a sync large enough to be killed in the middle (MariaDB first, so a
    machine without one skips with the reason)."""
    with sources(["legacy-erp", "callrail", "genius", "arrivy"], scale=800) as pipelines:
        yield pipelines


@pytest.mark.parametrize(("name", "seed", "victim"), SAMPLE)
def test_a_killed_run_resumes_to_exactly_the_source(made, warehouse_url, name, seed, victim):
    duration = timed_full_run(made[name], warehouse_url)
    outcome = trial(made[name], warehouse_url, seed, duration, victim=victim)
    assert outcome.equal, outcome
    assert outcome.killed, "the kill came before the run ended"
    assert outcome.history["running"] == 0, "rows a killed run left running are marked"
    assert outcome.history["failed"] >= outcome.left_running
