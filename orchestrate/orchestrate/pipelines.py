"""One Dagster multi-asset per extractor: a table per stream, materialized by `meltano run`.

An extractor's tables are one set of assets (`callrail/calls`, …) whichever Meltano job
loads them (`callrail`, `all`, `callrail-reconcile`); a job tells the asset which of its
tasks to run (the op's `tasks` config). Each materialization carries what the sync history
says of that stream in this run; a stream that ended `partial` fails its asset check with a
warning that names the quarantine table; `in_step_with_source` warns while the latest
reconciliation pass of the table found drift (rows the deltas had missed), whichever job ran
last, so a delta that keeps missing changes is seen; a failed pipeline has its history rows marked
failed and fails the step with the tap's one-line error. When the tap named the streams that
failed while it synced the others, only their rows are marked: the other tables are
materialized and their checks run, and then the step fails, so those tables' assets fail.
A step is retried, with backoff, only when the failure may pass (the process was killed, the
source kept failing): the retry resumes from the state the target committed.
"""

# No `from __future__ import annotations`: Dagster reads the step's config type at run time.

import dataclasses
import datetime
import typing as t

import dagster as dg
from target_warehouse.sync_history import (
    STOPPED_UNANNOUNCED,
    failed_streams,
    mark_pipeline_failed,
    one_line_error,
    source_name,
)

from orchestrate.meltano_project import MeltanoProject
from orchestrate.run_directory import private_sys_dir
from orchestrate.sync_history import StreamResult, last_passes, run_results
from orchestrate.tables import base_plugin, loaded_tables

PARTIAL_CHECK = "no_quarantined_records"
DRIFT_CHECK = "in_step_with_source"
RETRY_POLICY = dg.RetryPolicy(
    max_retries=3, delay=30, backoff=dg.Backoff.EXPONENTIAL, jitter=dg.Jitter.PLUS_MINUS
)
TRANSIENT_ERRORS = (STOPPED_UNANNOUNCED, "try again later")
"""Words of one-line errors that another try may get past: a process a signal ended, a
source that kept failing (the taps' own retries gave up)."""


def dagster_name(name: str) -> str:
    """A Meltano name as Dagster allows names: `legacy-erp` → `legacy_erp`."""
    return name.replace("-", "_")


@dataclasses.dataclass(frozen=True)
class Extractor:
    """A base extractor's tables, as Meltano resolves its settings."""

    name: str
    load_schema: str
    tables: tuple[str, ...]

    @property
    def step(self) -> str:
        """The multi-asset's name, its step in a job (`load_callrail`): never a job's name."""
        return f"load_{dagster_name(self.load_schema)}"

    @property
    def keys(self) -> list[dg.AssetKey]:
        return [dg.AssetKey([self.load_schema, table]) for table in self.tables]


def read_extractor(project: MeltanoProject, name: str) -> Extractor:
    """Its load schema and `select` from Meltano, its tables from the tap package."""
    extras = project.plugin_extras(base_plugin(name))
    schema = str(extras.get("_load_schema") or base_plugin(name).removeprefix("tap-"))
    return Extractor(base_plugin(name), schema, tuple(loaded_tables(name, extras.get("_select"))))


class PipelineConfig(dg.Config):
    """What one step runs: Meltano blocks (`tap-x target-y`, …) and how."""

    tasks: list[str]
    full_refresh: bool = False
    state_id_suffix: str | None = None
    env: dict[str, str] = {}


def is_transient(error: str, returncode: int) -> bool:
    """Whether another try may succeed: a killed process, or a source that kept failing."""
    return returncode < 0 or any(words in error for words in TRANSIENT_ERRORS)


def extractor_assets(
    project: MeltanoProject,
    extractor: Extractor,
    warehouse: t.Callable[[], dict],
    retry_policy: dg.RetryPolicy,
) -> dg.AssetsDefinition:
    """The multi-asset of one extractor's tables (see the module docstring)."""
    specs = [
        dg.AssetSpec(key, group_name=extractor.load_schema, kinds={"meltano", "postgres"},
                     skippable=True)
        for key in extractor.keys
    ]  # fmt: skip
    checks = [
        spec
        for key in extractor.keys
        for spec in (
            dg.AssetCheckSpec(
                PARTIAL_CHECK, asset=key, description="No record of this stream was quarantined."
            ),
            dg.AssetCheckSpec(
                DRIFT_CHECK,
                asset=key,
                description="The latest reconciliation pass found nothing the deltas had missed.",
            ),
        )
    ]

    @dg.multi_asset(
        name=extractor.step,
        specs=specs,
        check_specs=checks,
        retry_policy=retry_policy,
        description=f"Tables {extractor.name} loads, through `meltano run`.",
    )
    def pipeline(
        context: dg.AssetExecutionContext, config: PipelineConfig
    ) -> t.Iterator[dg.MaterializeResult | dg.AssetCheckResult]:
        results, failure = run_pipeline(context, project, extractor, warehouse(), config)
        quarantine = quarantine_table(warehouse())
        passes = last_passes(warehouse(), source_name({"source_name": extractor.name}))
        for key in extractor.keys:
            result = results.get(key.path[-1])
            if failed_alone(result):
                continue
            outcome = stream_outcome(key, result, quarantine)
            if outcome.metadata is not None:
                yield dg.MaterializeResult(asset_key=key, metadata=outcome.metadata)
            yield dg.AssetCheckResult(asset_key=key, check_name=PARTIAL_CHECK, **outcome.check)
            found = drift_check(passes.get(key.path[-1]))
            yield dg.AssetCheckResult(asset_key=key, check_name=DRIFT_CHECK, **found)
        if failure is not None:
            raise failure

    return pipeline


def run_pipeline(
    context: dg.OpExecutionContext,
    project: MeltanoProject,
    extractor: Extractor,
    warehouse: t.Mapping[str, t.Any],
    config: PipelineConfig,
) -> tuple[dict[str, StreamResult], dg.Failure | None]:
    """`meltano run` the step's tasks under the Dagster run's ID, in a Meltano system
    directory of the try's own (run_directory.py); each stream's sync-history row of this
    try. A failed run has its rows marked failed and fails the step with the
    tap's one-line error, to be retried only when another try may pass; when the tap named
    the streams that failed, that failure is returned, for the step to raise once the other
    tables are materialized."""
    started = datetime.datetime.now(datetime.timezone.utc)
    run_id = context.run.run_id
    with private_sys_dir(project, run_id) as own_directory:
        outcome = project.run(
            [word for task in config.tasks for word in task.split()],
            run_id=run_id,
            full_refresh=config.full_refresh,
            state_id_suffix=config.state_id_suffix,
            env={**config.env, **own_directory},
            log=context.log.debug,
        )
    if outcome.returncode == 0:
        return {r.stream: r for r in run_results(warehouse, run_id, started)}, None
    error = one_line_error(outcome.stderr_tail, outcome.returncode)
    streams = failed_streams(outcome.stderr_tail)
    mark_pipeline_failed(warehouse, run_id, extractor.load_schema, error, streams)
    results = {r.stream: r for r in run_results(warehouse, run_id, started)}
    failure = dg.Failure(
        description=error,
        metadata={
            "streams_recorded": len(results),
            "streams_failed": dg.MetadataValue.json(streams),
        },
        allow_retries=is_transient(error, outcome.returncode),
    )
    if not streams:
        raise failure
    return results, failure


def failed_alone(result: StreamResult | None) -> bool:
    """Whether a stream failed while the others were synced: its table is not
    materialized, and the step's failure names it."""
    return result is not None and result.status == "failed"


def quarantine_table(warehouse: t.Mapping[str, t.Any]) -> str:
    return f"{warehouse['history_schema']}.rejected_records"


@dataclasses.dataclass(frozen=True)
class StreamOutcome:
    """A table's materialization metadata (None: not synced in this run) and its check."""

    metadata: dict[str, t.Any] | None
    check: dict[str, t.Any]
    """passed, severity, description and metadata of the `no_quarantined_records` check."""


def stream_outcome(key: dg.AssetKey, result: StreamResult | None, quarantine: str) -> StreamOutcome:
    """What a table's sync-history row of the run says to Dagster."""
    if result is None:  # the tap sent nothing of this stream in this run
        return StreamOutcome(None, {"passed": True, "metadata": {"synced_in_this_run": False}})
    partial = result.status == "partial"
    description = (
        f"{result.failed} records of {key.path[-1]} were quarantined: see {quarantine}"
        if partial
        else None
    )
    check = {
        "passed": not partial,
        "severity": dg.AssetCheckSeverity.WARN,
        "description": description,
        "metadata": {"records_failed": result.failed},
    }
    return StreamOutcome(result.metadata(), check)


def drift_check(last_pass: StreamResult | None) -> dict[str, t.Any]:
    """The `in_step_with_source` check: passed, severity, description and metadata from the
    table's latest reconciliation pass (a warning while it found drift)."""
    if last_pass is None or last_pass.reconciled is None:
        return {
            "passed": True,
            "description": "No reconciliation pass of this table yet",
            "metadata": {"reconciled": False},
        }
    found = last_pass.reconciled
    when = last_pass.started.isoformat() if last_pass.started else "?"
    metadata = {
        "reconciled_at": when,
        "rows_at_source": found.source_rows,
        "rows_live_before": found.live_before,
        "rows_retired": found.retired,
        "drift_found": found.drift,
    }
    description = (
        f"The pass of {when} retired {found.retired} rows the source no longer lists and "
        f"found {found.drift} rows the deltas had missed (changed or missing)"
    )
    return {
        "passed": found.drift == 0,
        "severity": dg.AssetCheckSeverity.WARN,
        "description": description,
        "metadata": metadata,
    }
