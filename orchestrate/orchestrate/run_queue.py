"""The run tags by which the instance's run queue keeps a pipeline from overlapping itself.

Each run carries one tag per pipeline it runs, `meltano/<extractor>-to-<loader>`, whose
value is the pipeline's Meltano state ID (with the partition's suffix, if any). dagster.yaml
limits every such tag to one run in progress per value: a second run of a pipeline waits in
the queue, while other pipelines and other CallRail accounts run beside it. Meltano's own
"already running" check stays as a second guard.

A reconciliation pass (an extractor that inherits, `tap-x--reconcile`) also carries the tag
of its base pipeline, so the pass and the deltas of one source wait for each other: a row a
delta loaded after the pass had read its table would be one the pass never received, and
its end would retire it.
"""

from __future__ import annotations

from orchestrate.meltano_project import Job, Pipeline

STATE_TAG_PREFIX = "meltano/"


def state_tags(job: Job, environment: str | None, suffix: str | None = None) -> dict[str, str]:
    """The concurrency tags of a job's runs: pipeline → its state ID (and a pass's base
    pipeline → the base's state ID)."""
    tags = {}
    for pipeline in job.pipelines:
        base = Pipeline(pipeline.extractor.split("--")[0], pipeline.loader)
        for tagged in (base, pipeline):
            tags[f"{STATE_TAG_PREFIX}{tagged.state_id_stem}"] = tagged.state_id(
                environment or "dev", suffix
            )
    return tags
