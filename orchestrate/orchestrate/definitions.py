"""The Dagster code location: `dagster dev -m orchestrate.definitions`.

Built from the Meltano project (see meltano_project.py): one Dagster job per Meltano job
(same name, hyphens as underscores), one schedule per Meltano schedule (same name and cron;
the nightly full refresh keeps its full refresh), one multi-asset per extractor whose
assets are the tables it loads (pipelines.py), and the dbt project's models downstream of
them (transform.py), run by the jobs whose tasks include `dbt-postgres:…`. A job or
schedule added to meltano.yml appears here with no Python change.

A CallRail job also gets a twin partitioned by account (partitions.py). Every run is tagged
with its pipelines' state IDs, which the run queue keeps from overlapping (run_queue.py).

Every table a schedule loads has a freshness check derived from that schedule
(freshness.py), and sensors send an alert when a run or a check fails (alerts.py,
notifications.py).
"""

from __future__ import annotations

import functools
import typing as t

import dagster as dg

from orchestrate.alerts import alert_sensors
from orchestrate.freshness import freshness_checks, freshness_sensor, table_deadlines
from orchestrate.meltano_project import Job, MeltanoProject, Schedule, at_once
from orchestrate.partitions import partition_keys, partitioned_jobs
from orchestrate.pipelines import (
    RETRY_POLICY,
    Extractor,
    PipelineConfig,
    dagster_name,
    extractor_assets,
    read_extractor,
)
from orchestrate.run_queue import state_tags
from orchestrate.tables import base_plugin
from orchestrate.transform import UTILITY, transform_assets


def runs_dbt(job: Job) -> bool:
    """Whether a Meltano job runs the dbt project (a `dbt-postgres:build` task)."""
    return any(word.startswith(f"{UTILITY}:") for task in job.tasks for word in task.split())


def job_config(job: Job, extractors: t.Mapping[str, Extractor], full_refresh: bool) -> dict:
    """Run config: each extractor's step runs the job's tasks that read from it."""
    tasks: dict[str, list[str]] = {}
    for pipeline in job.pipelines:
        extractor = extractors[base_plugin(pipeline.extractor)]
        tasks.setdefault(extractor.step, []).append(f"{pipeline.extractor} {pipeline.loader}")
    return {
        "ops": {
            step: {"config": PipelineConfig(tasks=steps, full_refresh=full_refresh).model_dump()}
            for step, steps in tasks.items()
        }
    }


def asset_job(
    job: Job,
    extractors: t.Mapping[str, Extractor],
    environment: str | None,
    transform: t.Sequence[dg.AssetsDefinition] = (),
) -> dg.UnresolvedAssetJobDefinition:
    keys = [
        key
        for name in dict.fromkeys(base_plugin(p.extractor) for p in job.pipelines)
        for key in extractors[name].keys
    ]
    selection = dg.AssetSelection.assets(*keys)
    if runs_dbt(job) and transform:
        selection = selection | dg.AssetSelection.assets(*transform)
    return dg.define_asset_job(
        name=dagster_name(job.name),
        selection=selection,
        config=job_config(job, extractors, full_refresh=False),
        tags=state_tags(job, environment),
        description=f"Meltano job {job.name}: {'; '.join(job.tasks)}",
    )


def schedule(
    item: Schedule, job: Job, extractors: t.Mapping[str, Extractor], environment: str | None
) -> dg.ScheduleDefinition:
    return dg.ScheduleDefinition(
        name=dagster_name(item.name),
        cron_schedule=item.cron,
        job_name=dagster_name(job.name),
        run_config=job_config(job, extractors, full_refresh=item.full_refresh),
        tags=state_tags(job, environment),
        execution_timezone="UTC",
        description=f"Meltano schedule {item.name}",
    )


def build_definitions(
    project: MeltanoProject, retry_policy: dg.RetryPolicy = RETRY_POLICY
) -> dg.Definitions:
    """Every job, schedule and table asset of the Meltano project; a step that fails in a
    way another try may pass is retried by `retry_policy`."""
    # The first read alone: it creates Meltano's system database if there is none yet, which
    # two Meltano processes starting at once on a new database both try, and one fails.
    listed_jobs = project.jobs()
    jobs = [job for job in listed_jobs if job.pipelines]
    names = list(dict.fromkeys(base_plugin(p.extractor) for job in jobs for p in job.pipelines))
    listed_schedules, *read = at_once(
        project.schedules,
        *(functools.partial(read_extractor, project, name) for name in names),
        *(functools.partial(partition_keys, project, name) for name in names),
    )
    extractors = dict(zip(names, read[: len(names)], strict=True))
    partitions = dict(zip(names, read[len(names) :], strict=True))
    loaders = dict.fromkeys(p.loader for job in jobs for p in job.pipelines)
    warehouse = functools.cache(lambda: project.plugin_config(next(iter(loaders))))
    transform, resources = transform_assets(project, extractors)
    if transform:
        jobs += [job for job in listed_jobs if runs_dbt(job) and not job.pipelines]
    by_name = {job.name: job for job in jobs}
    checks = freshness_checks(table_deadlines(extractors, by_name, listed_schedules))
    return dg.Definitions(
        assets=[
            *(extractor_assets(project, e, warehouse, retry_policy) for e in extractors.values()),
            *transform,
        ],
        resources=resources,
        asset_checks=checks,
        sensors=[*([freshness_sensor(checks)] if checks else []), *alert_sensors()],
        jobs=[
            *(asset_job(job, extractors, project.environment, transform) for job in jobs),
            *partitioned_jobs(project, jobs, extractors, partitions, warehouse, retry_policy),
        ],
        schedules=[
            schedule(item, by_name[item.job], extractors, project.environment)
            for item in listed_schedules
            if item.job in by_name
        ],
    )


defs = build_definitions(MeltanoProject.from_environment())
