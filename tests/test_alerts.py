"""Failure alerts by email and Slack: a real SMTP server and a real HTTP receiver get what a failed
(then recovered) task sends; channels without a connection are skipped quietly."""

from __future__ import annotations

import json
import socket
import threading
from email import message_from_bytes, policy
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from urllib.parse import quote

import pytest

from atlas.alerts import (
    MAX_ERROR_CHARS,
    EmailAlert,
    SlackAlert,
    error_line,
    failure_callbacks,
    recovery_callbacks,
)
from atlas.config import AlertSpec
from atlas.errors import AtlasInputError
from tests.dag_probe import good_csv, isolate_airflow_plugins, land, probe_dag, probe_spec, run

PII = "anders.jensen@example.dk"


# ----------------------------------------------------------------------------- servers


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class _Inbox:
    """aiosmtpd handler keeping every message it receives."""

    def __init__(self) -> None:
        self.messages: list[dict[str, object]] = []

    async def handle_DATA(self, server, session, envelope) -> str:
        msg = message_from_bytes(envelope.content, policy=policy.default)
        body = msg.get_body(preferencelist=("html", "plain"))
        self.messages.append({"from": envelope.mail_from, "to": list(envelope.rcpt_tos),
                              "subject": str(msg["Subject"]), "body": body.get_content() if body else ""})
        return "250 OK"


@pytest.fixture
def smtp_server():
    from aiosmtpd.controller import Controller

    inbox = _Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=_free_port())
    controller.start()
    yield controller, inbox
    controller.stop()


@pytest.fixture
def slack_server():
    """A local stand-in for a Slack incoming webhook: records POSTed JSON, answers 200 ``ok``."""
    received: list[dict[str, object]] = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            received.append({"path": self.path, "json": json.loads(self.rfile.read(length))})
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Hook)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server, received
    server.shutdown()
    server.server_close()
    thread.join(timeout=5)


@pytest.fixture
def alert_connections(smtp_server, slack_server, monkeypatch):
    controller, inbox = smtp_server
    server, received = slack_server
    smtp = {"conn_type": "smtp", "host": "127.0.0.1", "port": controller.port,
            "extra": {"disable_ssl": True, "disable_tls": True, "from_email": "atlas@example.com",
                      "timeout": 5, "retry_limit": 0}}
    slack = {"conn_type": "slackwebhook",
             "password": f"http://127.0.0.1:{server.server_address[1]}/services/T000/B000/XXXX"}
    monkeypatch.setenv("AIRFLOW_CONN_SMTP_ATLAS_TEST", json.dumps(smtp))
    monkeypatch.setenv("AIRFLOW_CONN_SLACK_ATLAS_TEST", json.dumps(slack))
    return inbox.messages, received


# ----------------------------------------------------------------------------- message rules


def test_error_line_is_the_first_line_and_bounded():
    err = AtlasInputError("customers/2031-01-01/a.csv: header is missing configured column(s) ['notes']\n"
                          "second line that must not be sent")
    assert error_line(err) == ("AtlasInputError: customers/2031-01-01/a.csv: header is missing configured "
                               "column(s) ['notes']")
    long = error_line(AtlasInputError("x" * 1000))
    assert len(long) == MAX_ERROR_CHARS and long.endswith("…")
    assert error_line("Task was killed: heartbeat timeout\nmore") == "Task was killed: heartbeat timeout"


def test_error_line_never_quotes_third_party_messages():
    """Library messages can quote data (``invalid literal for int(): '<value>'``): class name only."""
    assert error_line(ValueError(f"invalid literal for int() with base 10: '{PII}'")) == (
        "ValueError (details in the task log)")
    assert error_line(KeyError(PII)) == "KeyError (details in the task log)"


def test_channels_follow_the_table_config():
    spec = probe_spec("cfg_probe", alerts=AlertSpec(email=("oncall@example.com",), email_conn_id="smtp_x",
                                                    slack_conn_id="slack_x"))
    email, slack = failure_callbacks(spec)
    assert isinstance(email, EmailAlert) and email.conn_id == "smtp_x" and email.to == ["oncall@example.com"]
    assert isinstance(slack, SlackAlert) and slack.conn_id == "slack_x" and slack.event == "failed"
    assert [n.event for n in recovery_callbacks(spec)] == ["recovered", "recovered"]
    quiet = probe_spec("cfg_probe", alerts=AlertSpec(email=(), slack_conn_id=None))
    assert failure_callbacks(quiet) == [] and recovery_callbacks(quiet) == []


def test_missing_connection_skips_quietly(capsys, slack_server):
    _, received = slack_server
    ti = SimpleNamespace(dag_id="atlas_x", task_id="t", try_number=1, max_tries=2, log_url="http://log")
    SlackAlert("slack_not_configured_anywhere")({"ti": ti, "exception": AtlasInputError("bad file")})
    assert received == []
    logged = "".join(capsys.readouterr())
    assert "slack alert skipped: connection 'slack_not_configured_anywhere' is not configured" in logged


# ----------------------------------------------------------------------------- real runs


@pytest.mark.slow
def test_failed_task_alerts_by_email_and_slack_then_recovers(
        airflow_db, warehouse_dsn, alert_connections, tmp_path, monkeypatch):
    emails, posts = alert_connections
    isolate_airflow_plugins(monkeypatch, tmp_path)
    spec = probe_spec("alert_probe", alerts=AlertSpec(
        email=("oncall@example.com", "crm-lead@example.com"), email_conn_id="smtp_atlas_test",
        slack_conn_id="slack_atlas_test"), links={"runbook": "https://example.com/runbooks/alert_probe"})
    dag = probe_dag(spec, tmp_path)

    # 1. a malformed file (header misses configured columns; a row carries an email address)
    land(spec, "2031-01-01", f"customer_id,customer_name,email_address\nC000001,Anders Jensen,{PII}\n")
    state, tis = run(dag, "2031-01-01")
    assert state == "failed"
    assert (tis["ingest_bronze"].state, tis["ingest_bronze"].try_number) == ("failed", 1)
    assert tis["wait_for_source"].state == "success"

    assert len(emails) == 1 and len(posts) == 1, (emails, posts)
    email, post = emails[0], posts[0]
    assert email["to"] == ["oncall@example.com", "crm-lead@example.com"]
    assert email["from"] == "atlas@example.com"
    assert email["subject"] == "[Atlas] atlas_alert_probe.ingest_bronze failed (2031-01-01T00:00:00+00:00, try 1)"
    assert post["path"] == "/services/T000/B000/XXXX"
    log_path = f"/dags/atlas_alert_probe/runs/{quote(tis['ingest_bronze'].run_id)}/tasks/ingest_bronze?try_number=1"
    for body in (email["body"], post["json"]["text"]):
        assert "atlas_alert_probe" in body and "ingest_bronze" in body
        assert "2031-01-01T00:00:00+00:00" in body
        assert "1 of 4 (failed fast: not retryable)" in body
        assert "AtlasInputError: file://" in body and "header is missing configured column(s)" in body
        assert log_path in body
        assert "https://example.com/runbooks/alert_probe" in body
        assert PII not in body and "Anders" not in body and "Traceback" not in body

    # 2. the next day's file is fine: the failed task reports its recovery, the sensor stays quiet
    land(spec, "2031-01-02", good_csv(spec, "C000002"))
    state, tis = run(dag, "2031-01-02")
    assert state == "success", tis
    assert len(emails) == 2 and len(posts) == 2
    assert emails[1]["subject"] == (
        "[Atlas] atlas_alert_probe.ingest_bronze recovered (2031-01-02T00:00:00+00:00, try 1)")
    assert "Atlas task recovered" in emails[1]["body"] and "Error" not in emails[1]["body"]
    assert "recovered" in posts[1]["json"]["text"] and "ingest_bronze" in posts[1]["json"]["text"]
