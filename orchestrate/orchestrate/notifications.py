"""Where an alert goes: a webhook in Slack's format and/or e-mail over SMTP.

Both are configured by environment variables, so that no secret sits in meltano.yml or in
Dagster's run config:

- `ALERT_WEBHOOK_URL`: a Slack incoming webhook (or anything that takes Slack's
  `{"text": …}` body: Mattermost, Teams' Slack-compatible connectors, a chat bridge);
- `ALERT_SMTP_HOST` (with `ALERT_SMTP_PORT`, default 25), `ALERT_EMAIL_FROM`,
  `ALERT_EMAIL_TO` (comma-separated), and where the server asks for them
  `ALERT_SMTP_USER`, `ALERT_SMTP_PASSWORD` and `ALERT_SMTP_STARTTLS=true`;
- `DAGSTER_WEBSERVER_URL` (default http://localhost:3000) for the link to the run.

A message names the pipeline, the stream, the one-line reason and the run's link. Before
it leaves, every value of an environment variable whose name says it is a secret (…KEY,
…TOKEN, …SECRET, …PASSWORD, the webhook URL) is replaced by `***`: the one-line errors
never carry one, and this makes sure. A channel that cannot be reached is logged, never
raised: an alert must not fail the sensor that sends the others.
"""

from __future__ import annotations

import dataclasses
import email.message
import logging
import os
import re
import smtplib
import typing as t

import requests

SECRET_NAME = re.compile(r"KEY|TOKEN|SECRET|PASSWORD|WEBHOOK", re.IGNORECASE)
MIN_SECRET_LENGTH = 4
"""Shorter values (`true`, `25`) are not worth masking and would garble the text."""
DEFAULT_WEBSERVER = "http://localhost:3000"


@dataclasses.dataclass(frozen=True)
class Alert:
    """One thing someone should know: what failed, where, why, and where to look."""

    pipeline: str
    stream: str | None
    reason: str
    link: str | None = None
    kind: str = "failed"
    """"failed" (a run), or the name of the failed check ("stale", …)."""

    def subject(self) -> str:
        where = f"{self.pipeline} / {self.stream}" if self.stream else self.pipeline
        return f"[warehouse] {where}: {self.kind}"

    def text(self) -> str:
        lines = [self.subject(), f"Reason: {self.reason}"]
        if self.link:
            lines.append(f"Run: {self.link}")
        return "\n".join(lines)


def run_link(run_id: str, env: t.Mapping[str, str] = os.environ) -> str:
    """The run's page on the Dagster webserver."""
    base = env.get("DAGSTER_WEBSERVER_URL") or DEFAULT_WEBSERVER
    return f"{base.rstrip('/')}/runs/{run_id}"


def without_secrets(text: str, env: t.Mapping[str, str] = os.environ) -> str:
    """`text` with the value of every secret-named environment variable masked."""
    secrets = sorted(
        (
            value
            for name, value in env.items()
            if SECRET_NAME.search(name) and len(value) >= MIN_SECRET_LENGTH
        ),
        key=len,
        reverse=True,
    )
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


class Channel(t.Protocol):
    name: str

    def send(self, alert: Alert, text: str) -> None: ...


@dataclasses.dataclass(frozen=True)
class Webhook:
    """A Slack incoming webhook (`{"text": …}`)."""

    url: str
    timeout: float = 10.0
    name: str = "webhook"

    def send(self, alert: Alert, text: str) -> None:
        response = requests.post(self.url, json={"text": text}, timeout=self.timeout)
        response.raise_for_status()


@dataclasses.dataclass(frozen=True)
class Email:
    """E-mail over SMTP (STARTTLS and a login when the server asks for them)."""

    host: str
    port: int
    sender: str
    recipients: tuple[str, ...]
    user: str | None = None
    password: str | None = dataclasses.field(default=None, repr=False)
    starttls: bool = False
    timeout: float = 10.0
    name: str = "e-mail"

    def send(self, alert: Alert, text: str) -> None:
        message = email.message.EmailMessage()
        message["Subject"] = text.splitlines()[0]
        message["From"] = self.sender
        message["To"] = ", ".join(self.recipients)
        message.set_content(text)
        with smtplib.SMTP(self.host, self.port, timeout=self.timeout) as server:
            if self.starttls:
                server.starttls()
            if self.user:
                server.login(self.user, self.password or "")
            server.send_message(message)


def channels(env: t.Mapping[str, str] = os.environ) -> list[Channel]:
    """The channels the environment configures (none: alerts are only logged)."""
    found: list[Channel] = []
    if env.get("ALERT_WEBHOOK_URL"):
        found.append(Webhook(env["ALERT_WEBHOOK_URL"]))
    if env.get("ALERT_SMTP_HOST") and env.get("ALERT_EMAIL_TO"):
        found.append(
            Email(
                host=env["ALERT_SMTP_HOST"],
                port=int(env.get("ALERT_SMTP_PORT") or 25),
                sender=env.get("ALERT_EMAIL_FROM") or "warehouse-alerts@localhost",
                recipients=tuple(r.strip() for r in env["ALERT_EMAIL_TO"].split(",") if r.strip()),
                user=env.get("ALERT_SMTP_USER") or None,
                password=env.get("ALERT_SMTP_PASSWORD") or None,
                starttls=(env.get("ALERT_SMTP_STARTTLS") or "").lower() in ("1", "true", "yes"),
            )
        )
    return found


def notify(
    alert: Alert, logger: logging.Logger, env: t.Mapping[str, str] = os.environ
) -> list[str]:
    """Send `alert` to every configured channel; the names of those that took it."""
    text = without_secrets(alert.text(), env)
    logger.warning("%s", text.replace("\n", " | "))
    sent = []
    for channel in channels(env):
        try:
            channel.send(alert, text)
        except (OSError, smtplib.SMTPException, requests.RequestException) as exc:
            reason = without_secrets(f"{type(exc).__name__}: {exc}", env)
            logger.error("The alert could not be sent by %s: %s", channel.name, reason)
            continue
        sent.append(channel.name)
    return sent
