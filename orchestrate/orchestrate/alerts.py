"""Nobody has to look to know: Dagster sensors that send an alert (notifications.py) when a
run fails and when a check fails.

- `alert_on_run_failure` (Dagster's run-failure sensor): one alert per stream the tap named
  as failed, with that stream's reason, or one per failed step with its one-line error when
  the whole pipeline failed; each names the job and links to the run.
- `alert_on_failed_checks` (a run-status sensor on finished runs): one alert per failing
  asset check in the run, naming the table's pipeline (its load schema) and the table: a
  stale table (the freshness checks, freshness.py), records quarantined, a reconciliation
  pass that found drift.

Both are on by default; with no channel configured they only log.
"""

from __future__ import annotations

import typing as t

import dagster as dg

from orchestrate.notifications import Alert, notify, run_link

RUN_FAILURE_SENSOR = "alert_on_run_failure"
CHECK_SENSOR = "alert_on_failed_checks"


def failure_alerts(context: dg.RunFailureSensorContext) -> list[Alert]:
    """An alert per failed step (per failed stream when the tap named them)."""
    run = context.dagster_run
    link = run_link(run.run_id)
    alerts = []
    for event in context.get_step_failure_events():
        failure = event.step_failure_data
        user = failure.user_failure_data if failure else None
        reason = (user.description if user else None) or event.message or "the step failed"
        metadata = (user.metadata if user else None) or {}
        named = metadata.get("streams_failed")
        streams: dict = named.value if named is not None else {}  # type: ignore[assignment]
        if not streams:
            alerts.append(Alert(run.job_name, None, reason, link))
        alerts += [Alert(run.job_name, name, why, link) for name, why in streams.items()]
    if not alerts:
        message = context.failure_event.message or "the run failed"
        alerts.append(Alert(run.job_name, None, message, link))
    return alerts


def check_alerts(instance: dg.DagsterInstance, run: dg.DagsterRun) -> list[Alert]:
    """An alert per asset check of the run that did not pass."""
    records = instance.all_logs(run.run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION)
    alerts = []
    for record in records:
        event = record.dagster_event
        evaluation = event.event_specific_data if event else None
        if not isinstance(evaluation, dg.AssetCheckEvaluation) or evaluation.passed:
            continue
        reason = evaluation.description or f"the check {evaluation.check_name} failed"
        *schema, table = evaluation.asset_key.path
        alerts.append(
            Alert(
                "/".join(schema) or run.job_name,
                table,
                reason,
                run_link(run.run_id),
                kind=evaluation.check_name,
            )
        )
    return alerts


def alert_sensors() -> list[dg.SensorDefinition]:
    """The run-failure and the failed-check sensors."""

    @dg.run_failure_sensor(name=RUN_FAILURE_SENSOR, default_status=dg.DefaultSensorStatus.RUNNING)
    def alert_on_run_failure(context: dg.RunFailureSensorContext) -> None:
        for alert in failure_alerts(context):
            notify(alert, context.log)

    @dg.run_status_sensor(
        name=CHECK_SENSOR,
        run_status=dg.DagsterRunStatus.SUCCESS,
        default_status=dg.DefaultSensorStatus.RUNNING,
    )
    def alert_on_failed_checks(context: dg.RunStatusSensorContext) -> None:
        for alert in check_alerts(context.instance, context.dagster_run):
            notify(alert, context.log)

    return [alert_on_run_failure, alert_on_failed_checks]


__all__: t.Sequence[str] = ["alert_sensors", "check_alerts", "failure_alerts"]
