"""Failure and recovery alerts by email and Slack, sent through the providers' notifiers.

Each table's ``alerts`` config (``AlertSpec``, defaults in ``include/tables/defaults.yml``) picks the
channels: email needs recipients, Slack a webhook connection id. Whether a channel is *enabled* is
decided when the callback runs: if its Airflow connection does not resolve, the alert is skipped
with one log line. Building the DAG does no I/O.

Messages name the DAG, task, logical date, try number, the error's first line (at most
:data:`MAX_ERROR_CHARS`) and a link to the task log. Only errors Atlas or Airflow raise on purpose
contribute their text (Atlas messages never carry row values); any other exception is reported by
class name only, because third-party messages can quote data.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from airflow.sdk.bases.notifier import BaseNotifier

if TYPE_CHECKING:
    from airflow.sdk import Connection, Context

    from atlas.config import TableSpec

Event = Literal["failed", "recovered"]
MAX_ERROR_CHARS = 300
DEFAULT_FROM_EMAIL = "Atlas <atlas@localhost>"


def error_line(exc: BaseException | str | None) -> str:
    """One line describing the error, safe to send: no traceback, no third-party message text."""
    from airflow.sdk.exceptions import AirflowException

    from atlas.errors import AtlasError

    if exc is None:
        return "unknown error (see the task log)"
    if isinstance(exc, str):
        text, name = exc, ""
    elif isinstance(exc, AtlasError | AirflowException):
        text, name = str(exc), type(exc).__name__
    else:
        return f"{type(exc).__name__} (details in the task log)"
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    line = ": ".join(filter(None, [name, lines[0] if lines else ""])) or "error"
    return line if len(line) <= MAX_ERROR_CHARS else line[: MAX_ERROR_CHARS - 1] + "…"


@dataclass(frozen=True)
class Alert:
    """What an alert says, independent of the channel."""

    event: Event
    dag_id: str
    task_id: str
    logical_date: str
    try_number: int
    max_tries: int
    owner: str = ""
    error: str | None = None
    log_url: str = ""
    runbook: str | None = None

    @classmethod
    def from_context(cls, context: Context, event: Event, runbook: str | None = None) -> Alert:
        ti = context["ti"]
        run = context.get("dag_run")
        when = context.get("logical_date") or getattr(run, "logical_date", None) or getattr(run, "run_after", None)
        task = context.get("task")
        return cls(
            event=event, dag_id=ti.dag_id, task_id=ti.task_id,
            logical_date=when.isoformat() if when is not None else "none",
            try_number=int(ti.try_number or 0), max_tries=int(getattr(ti, "max_tries", 0) or 0),
            owner=getattr(task, "owner", "") or "",
            error=error_line(context.get("exception")) if event == "failed" else None,
            log_url=getattr(ti, "log_url", "") or "", runbook=runbook,
        )

    @property
    def tries(self) -> str:
        total = self.max_tries + 1
        if self.event == "failed" and self.try_number < total:
            return f"{self.try_number} of {total} (failed fast: not retryable)"
        return f"{self.try_number} of {total}"

    @property
    def subject(self) -> str:
        what = "failed" if self.event == "failed" else "recovered"
        return f"[Atlas] {self.dag_id}.{self.task_id} {what} ({self.logical_date}, try {self.try_number})"

    def fields(self) -> list[tuple[str, str]]:
        rows = [("DAG", self.dag_id), ("Task", self.task_id), ("Logical date", self.logical_date),
                ("Try", self.tries)]
        if self.owner:
            rows.append(("Owner", self.owner))
        if self.error is not None:
            rows.append(("Error", self.error))
        return rows

    def text(self) -> str:
        """Plain text / Slack mrkdwn."""
        head = (f":red_circle: *Atlas task failed*: {self.dag_id}.{self.task_id}" if self.event == "failed"
                else f":large_green_circle: *Atlas task recovered*: {self.dag_id}.{self.task_id}")
        lines = [head, *(f"*{k}:* {v}" for k, v in self.fields())]
        if self.log_url:
            lines.append(f"*Log:* <{self.log_url}|task log>")
        if self.runbook:
            lines.append(f"*Runbook:* <{self.runbook}|runbook>")
        return "\n".join(lines)

    def html(self) -> str:
        rows = "".join(f"<tr><th align='left'>{html.escape(k)}</th><td>{html.escape(v)}</td></tr>"
                       for k, v in self.fields())
        links = [f"<a href=\"{html.escape(url, quote=True)}\">{name}</a>"
                 for name, url in (("Task log", self.log_url), ("Runbook", self.runbook or "")) if url]
        title = "Atlas task failed" if self.event == "failed" else "Atlas task recovered"
        return f"<h3>{title}</h3><table>{rows}</table><p>{' · '.join(links)}</p>"


def get_connection(conn_id: str) -> Connection | None:
    """The Airflow connection, or None when it is not defined anywhere (a cheap lookup)."""
    from airflow.sdk import BaseHook
    from airflow.sdk.exceptions import AirflowNotFoundException

    try:
        return BaseHook.get_connection(conn_id)
    except AirflowNotFoundException:
        return None


def previous_run_failed(context: Context) -> bool:
    """Whether this task ended FAILED in the DAG's previous run (so an alert went out)."""
    get_previous_ti = getattr(context["ti"], "get_previous_ti", None)
    previous = get_previous_ti() if get_previous_ti else None
    return previous is not None and previous.state == "failed"


class AtlasNotifier(BaseNotifier):
    """Builds an :class:`Alert` from the context and sends it when the connection exists.

    Nothing is templated: the message comes from the context, so error text cannot inject Jinja.

    :param conn_id: the Airflow connection of the channel; no connection, no alert.
    :param event: ``failed`` (a task failed) or ``recovered`` (it succeeded after a failed run).
    :param runbook: URL of the runbook the alert links to.
    """

    channel = "alert"
    template_fields: Sequence[str] = ()

    def __init__(self, conn_id: str, *, event: Event = "failed", runbook: str | None = None) -> None:
        super().__init__()
        self.conn_id, self.event, self.runbook = conn_id, event, runbook

    def notify(self, context: Context) -> None:
        conn = get_connection(self.conn_id)
        if conn is None:
            self.log.info("%s alert skipped: connection %r is not configured", self.channel, self.conn_id)
            return
        if self.event == "recovered" and not previous_run_failed(context):
            return
        alert = Alert.from_context(context, self.event, self.runbook)
        self.send(alert, conn, context)
        self.log.info("%s alert sent: %s", self.channel, alert.subject)

    def send(self, alert: Alert, conn: Connection, context: Context) -> None:
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.conn_id!r}, event={self.event!r})"


class EmailAlert(AtlasNotifier):
    """Email through ``SmtpNotifier``; sender from the connection's ``from_email`` extra, else
    ``[email] from_email``, else ``Atlas <atlas@localhost>``.

    :param conn_id: the SMTP connection.
    :param to: the recipients.
    :param event: ``failed`` or ``recovered``.
    :param runbook: URL of the runbook the alert links to.
    """

    channel = "email"

    def __init__(self, conn_id: str, *, to: Sequence[str], event: Event = "failed",
                 runbook: str | None = None) -> None:
        super().__init__(conn_id, event=event, runbook=runbook)
        self.to = list(to)

    def send(self, alert: Alert, conn: Connection, context: Context) -> None:
        from airflow.providers.common.compat.sdk import conf
        from airflow.providers.smtp.notifications.smtp import SmtpNotifier

        from_email = None if conn.extra_dejson.get("from_email") else conf.get(
            "email", "from_email", fallback=DEFAULT_FROM_EMAIL)
        SmtpNotifier(to=self.to, from_email=from_email, subject=alert.subject, html_content=alert.html(),
                     smtp_conn_id=self.conn_id).notify(context)


class SlackAlert(AtlasNotifier):
    """Slack message through ``SlackWebhookNotifier`` (connection type ``slackwebhook``).

    :param conn_id: the Slack webhook connection.
    :param event: ``failed`` or ``recovered``.
    :param runbook: URL of the runbook the alert links to.
    """

    channel = "slack"

    def send(self, alert: Alert, conn: Connection, context: Context) -> None:
        from airflow.providers.slack.notifications.slack_webhook import SlackWebhookNotifier

        SlackWebhookNotifier(slack_webhook_conn_id=self.conn_id, text=alert.text(),
                             unfurl_links=False, timeout=30).notify(context)


def _notifiers(spec: TableSpec, event: Event) -> list[AtlasNotifier]:
    runbook = spec.links.get("runbook")
    notifiers: list[AtlasNotifier] = []
    if spec.alerts.email:
        notifiers.append(EmailAlert(spec.alerts.email_conn_id, to=spec.alerts.email, event=event, runbook=runbook))
    if spec.alerts.slack_conn_id:
        notifiers.append(SlackAlert(spec.alerts.slack_conn_id, event=event, runbook=runbook))
    return notifiers


def failure_callbacks(spec: TableSpec) -> list[AtlasNotifier]:
    """Notifiers to call when a task fails for good (not on retries)."""
    return _notifiers(spec, "failed")


def recovery_callbacks(spec: TableSpec) -> list[AtlasNotifier]:
    """Notifiers to call when a task succeeds; they send only if it failed in the previous run."""
    return _notifiers(spec, "recovered")
