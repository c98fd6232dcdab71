"""The run tags by which the instance's run queue keeps a pipeline from overlapping itself.

Each run carries one tag per pipeline it runs, `meltano/<extractor>-to-<loader>`, whose
value is the pipeline's Meltano state ID (with the partition's suffix, if any). dagster.yaml
limits every such tag to one run in progress per value: a second run of a pipeline waits in
the queue, while other pipelines and other CallRail accounts run beside it. Meltano's own
"already running" check stays as a second guard.
"""

from __future__ import annotations

from orchestrate.meltano_project import Job

STATE_TAG_PREFIX = "meltano/"


def state_tags(job: Job, environment: str | None, suffix: str | None = None) -> dict[str, str]:
    """The concurrency tags of a job's runs: pipeline → its state ID."""
    return {
        f"{STATE_TAG_PREFIX}{pipeline.state_id_stem}": pipeline.state_id(
            environment or "dev", suffix
        )
        for pipeline in job.pipelines
    }
