"""CallRail by account: a Dagster job with one partition per account, to scale out.

A Meltano job whose pipelines all read from CallRail gets a twin, `<job>_by_account`, when
the extractor's `account_ids` setting lists accounts. Each partition is one account: its
run passes only that account to the tap (the setting's environment variable) and runs
`meltano run --state-id-suffix=<account>`, so its bookmarks live under a state ID of its own
(`sandbox:tap-callrail-to-target-warehouse:<account>`). Accounts then sync side by side
(CallRail counts its rate limit per account) and each resumes from its own state; the
unpartitioned job keeps its own state ID, so the two never read each other's bookmarks.
Each run's concurrency tag carries its partition's state ID (run_queue.py): one run per
account at once.

The tables are the extractor's assets (pipelines.py); a partition's run records their
materializations and checks as events, with the account in the metadata.
"""

# No `from __future__ import annotations`: Dagster reads the step's config type at run time.

import json
import re
import typing as t

import dagster as dg

from orchestrate.meltano_project import Job, MeltanoProject
from orchestrate.pipelines import (
    PARTIAL_CHECK,
    Extractor,
    PipelineConfig,
    dagster_name,
    failed_alone,
    quarantine_table,
    run_pipeline,
    stream_outcome,
)
from orchestrate.run_queue import state_tags
from orchestrate.tables import base_plugin

PARTITION_SETTING = {"tap-callrail": "account_ids"}
"""The extractors that partition, and the setting whose values are the partitions."""
JOB_SUFFIX = "_by_account"


def setting_variable(plugin: str, setting: str) -> str:
    """The environment variable Meltano reads a plugin's setting from:
    `tap-callrail--reconcile`, `account_ids` → `TAP_CALLRAIL__RECONCILE_ACCOUNT_IDS`."""
    return re.sub(r"[^A-Za-z0-9]", "_", f"{plugin}_{setting}").upper()


def partition_keys(project: MeltanoProject, extractor: str) -> list[str]:
    """The values of the extractor's partition setting (none: it does not partition)."""
    setting = PARTITION_SETTING.get(base_plugin(extractor))
    if setting is None:
        return []
    values = project.plugin_config(base_plugin(extractor)).get(setting) or []
    return [str(value) for value in values]


def partitioned_jobs(
    project: MeltanoProject,
    jobs: t.Sequence[Job],
    extractors: t.Mapping[str, Extractor],
    partitions: t.Mapping[str, list[str]],
    warehouse: t.Callable[[], dict],
    retry_policy: dg.RetryPolicy,
) -> list[dg.JobDefinition]:
    """`<job>_by_account` for each job that reads only from one extractor with partitions
    (`partitions`: each extractor's `partition_keys`)."""
    found = []
    for job in jobs:
        bases = {base_plugin(p.extractor) for p in job.pipelines}
        if len(bases) != 1:
            continue
        keys = partitions.get(next(iter(bases)), [])
        if keys:
            found.append(
                partitioned_job(
                    project, job, extractors[bases.pop()], keys, warehouse, retry_policy
                )
            )
    return found


def partitioned_job(
    project: MeltanoProject,
    job: Job,
    extractor: Extractor,
    keys: list[str],
    warehouse: t.Callable[[], dict],
    retry_policy: dg.RetryPolicy,
) -> dg.JobDefinition:
    """The job's pipelines, one account per partition (see the module docstring)."""
    setting = PARTITION_SETTING[extractor.name]
    # An op name of its own: the extractor's multi-asset holds the step's name, another
    # job may partition the same extractor, and a code location refuses two ops of one name.
    step = f"{extractor.step}_{dagster_name(job.name)}"

    def partition_config(key: str) -> dict[str, t.Any]:
        config = PipelineConfig(
            tasks=[f"{p.extractor} {p.loader}" for p in job.pipelines],
            state_id_suffix=key,
            env={setting_variable(p.extractor, setting): json.dumps([key]) for p in job.pipelines},
        )
        return {"ops": {step: {"config": config.model_dump()}}}

    config = dg.static_partitioned_config(
        partition_keys=keys,
        tags_for_partition_key_fn=lambda key: state_tags(job, project.environment, key),
    )(partition_config)

    @dg.op(name=step, retry_policy=retry_policy)
    def pipeline(context: dg.OpExecutionContext, config: PipelineConfig) -> None:
        results, failure = run_pipeline(context, project, extractor, warehouse(), config)
        quarantine = quarantine_table(warehouse())
        account = {"partition": context.partition_key}
        for key in extractor.keys:
            result = results.get(key.path[-1])
            if failed_alone(result):
                continue
            outcome = stream_outcome(key, result, quarantine)
            if outcome.metadata is not None:
                context.log_event(
                    dg.AssetMaterialization(key, metadata={**outcome.metadata, **account})
                )
            context.log_event(
                dg.AssetCheckEvaluation(asset_key=key, check_name=PARTIAL_CHECK, **outcome.check)
            )
        if failure is not None:
            raise failure

    @dg.job(
        name=dagster_name(job.name) + JOB_SUFFIX,
        config=config,
        description=f"Meltano job {job.name}, one {setting} value per partition.",
    )
    def by_partition() -> None:
        pipeline()

    return by_partition
