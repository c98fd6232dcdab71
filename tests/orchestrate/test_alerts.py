"""orchestrate.alerts and orchestrate.notifications: a failed run and a stale table reach a
webhook receiver and an SMTP server (aiosmtpd) that the test starts, through the sensors
the project's definitions carry; the messages say what they must and no secret."""

from __future__ import annotations

import datetime
import http.server
import json
import socket
import threading
import time

import dagster as dg
import pytest
import requests
from aiosmtpd.controller import Controller
from orchestrate.alerts import CHECK_SENSOR, RUN_FAILURE_SENSOR, alert_sensors
from orchestrate.definitions import build_definitions
from orchestrate.freshness import FRESHNESS_SENSOR, cron_interval, freshness_checks
from orchestrate.notifications import without_secrets

from tests.orchestrate.conftest import project_for
from tests.support.pipelines import arrivy_pipeline

WEBHOOK_TOKEN = "T0000-B0000-webhook-canary-XYZ"
SMTP_CANARY = "smtp-password-canary-123"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Received:
    def __init__(self) -> None:
        self.posts: list[dict] = []
        self.mails: list[str] = []


@pytest.fixture
def receivers(monkeypatch):
    """A webhook receiver and an SMTP server on loopback; the alert settings point at them."""
    received = Received()

    class Hook(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers["Content-Length"]))
            received.posts.append({"path": self.path, **json.loads(body)})
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            return

    class Mailbox:
        async def handle_DATA(self, server, session, envelope):
            received.mails.append(envelope.content.decode())
            return "250 OK"

    web = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=web.serve_forever, daemon=True).start()
    smtp_port = free_port()
    smtp = Controller(Mailbox(), hostname="127.0.0.1", port=smtp_port)
    smtp.start()
    hook = f"http://127.0.0.1:{web.server_address[1]}/services/{WEBHOOK_TOKEN}"
    monkeypatch.setenv("ALERT_WEBHOOK_URL", hook)
    monkeypatch.setenv("ALERT_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("ALERT_SMTP_PORT", str(smtp_port))
    monkeypatch.setenv("ALERT_EMAIL_TO", "ops@example.com")
    monkeypatch.setenv("DAGSTER_WEBSERVER_URL", "http://dagster.example:3000")
    monkeypatch.setenv("SOME_API_TOKEN", SMTP_CANARY)
    yield received
    web.shutdown()
    smtp.stop()


def sensor_context(name: str, instance, result, event) -> dg.RunStatusSensorContext:
    """What Dagster hands a run-status sensor for the run of `result`."""
    return dg.build_run_status_sensor_context(
        sensor_name=name,
        dagster_instance=instance,
        dagster_run=result.dagster_run,
        dagster_event=event,
    )


def no_secret(received: Received) -> None:
    everything = "".join(post["text"] for post in received.posts) + "".join(received.mails)
    for canary in (WEBHOOK_TOKEN, SMTP_CANARY, "sandbox-arrivy-key", "sandbox-arrivy-token"):
        assert canary not in everything


def test_a_failed_stream_reaches_the_webhook_and_the_mailbox(
    receivers, meltano_installed, warehouse_url, db, tmp_path, arrivy_server, schemas
):
    fault = {"kind": "404", "path": "/api/statuses", "times": 100_000}
    requests.post(f"{arrivy_server.url}/_sandbox/faults", json={"faults": [fault]}, timeout=5)
    env = arrivy_pipeline(arrivy_server).env
    project, _ = project_for(meltano_installed, tmp_path, warehouse_url, schemas, **env)
    defs = build_definitions(project)
    instance = dg.DagsterInstance.ephemeral()
    result = defs.resolve_job_def("arrivy").execute_in_process(
        instance=instance, raise_on_error=False
    )
    assert not result.success
    context = sensor_context(
        RUN_FAILURE_SENSOR, instance, result, result.get_run_failure_event()
    ).for_run_failure()
    defs.resolve_sensor_def(RUN_FAILURE_SENSOR)(context)
    (post,) = receivers.posts
    assert post["path"] == f"/services/{WEBHOOK_TOKEN}"
    text = post["text"]
    assert text.startswith("[warehouse] arrivy / statuses: failed")
    assert "\nReason: 404 from Arrivy on /api/statuses\n" in text
    assert f"http://dagster.example:3000/runs/{result.run_id}" in text
    (mail,) = receivers.mails
    assert "Subject: [warehouse] arrivy / statuses: failed" in mail
    assert "To: ops@example.com" in mail and "404 from Arrivy on /api/statuses" in mail
    no_secret(receivers)


def test_a_stale_table_reaches_the_webhook_and_the_mailbox(receivers):
    key = dg.AssetKey(["arrivy", "tasks"])
    checks = freshness_checks({key: datetime.timedelta(seconds=1)})
    job = dg.define_asset_job("freshness", selection=dg.AssetSelection.checks(*checks))
    defs = dg.Definitions(assets=[dg.AssetSpec(key)], asset_checks=checks, jobs=[job])
    instance = dg.DagsterInstance.ephemeral()
    instance.report_runless_asset_event(dg.AssetMaterialization(key))
    time.sleep(1.5)
    result = defs.resolve_job_def("freshness").execute_in_process(instance=instance)
    (evaluation,) = result.get_asset_check_evaluations()
    assert not evaluation.passed
    context = sensor_context(CHECK_SENSOR, instance, result, result.get_run_success_event())
    check_sensor = next(s for s in alert_sensors() if s.name == CHECK_SENSOR)
    check_sensor(context)
    (post,) = receivers.posts
    assert post["text"].startswith("[warehouse] arrivy / tasks: freshness_check")
    assert "Reason: " in post["text"] and f"/runs/{result.run_id}" in post["text"]
    (mail,) = receivers.mails
    assert "arrivy / tasks" in mail
    no_secret(receivers)


def test_each_scheduled_table_is_late_after_twice_its_shortest_interval(
    meltano_installed, warehouse_url, tmp_path, schemas
):
    project, _ = project_for(meltano_installed, tmp_path, warehouse_url, schemas)
    defs = build_definitions(project)
    graph = defs.resolve_asset_graph()
    checked = {key.asset_key for key in graph.asset_check_keys if key.name == "freshness_check"}
    schedules = {s.job: s.cron for s in project.schedules()}
    assert dg.AssetKey([schemas["tap-callrail"], "calls"]) in checked
    assert cron_interval(schedules["callrail"]) * 2 == datetime.timedelta(minutes=30)
    assert defs.resolve_sensor_def(FRESHNESS_SENSOR) is not None


def test_secret_values_are_masked_before_a_message_leaves():
    env = {"TAP_CALLRAIL_API_KEY": "abcd-secret", "ALERT_SMTP_PORT": "25", "PATH": "/usr/bin"}
    said = without_secrets("refused abcd-secret on port 25 in /usr/bin", env)
    assert said == "refused *** on port 25 in /usr/bin"
