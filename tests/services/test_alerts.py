"""Coordinators are told: HUMAN texts, escalations, failed sends and a growing backlog reach
them by e-mail (a real SMTP server on 127.0.0.1, aiosmtpd, started here) and by an outgoing
JSON webhook (a local receiver), in one digest, never in quiet hours; off by default."""

from __future__ import annotations

import datetime as dt
import json
import socket
import threading
from collections.abc import Iterator
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from sqlalchemy import func, select

from mutualaid.models import Alert, MessageStatus, utcnow
from mutualaid.services import alerts
from mutualaid.services.transitions import change_message_status
from mutualaid.worker import jobs
from tests import builders
from tests.sms_helpers import text

ROSA = "+17185550101"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Inbox:
    """What the local SMTP server received."""

    def __init__(self) -> None:
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((envelope.rcpt_tos, message_from_bytes(envelope.content)))
        return "250 OK"


@pytest.fixture
def smtp_server() -> Iterator[tuple[int, Inbox]]:
    from aiosmtpd.controller import Controller

    inbox = Inbox()
    port = _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield port, inbox
    finally:
        controller.stop()


@pytest.fixture
def webhook() -> Iterator[tuple[str, list]]:
    received: list = []

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers["Content-Length"])
            received.append(json.loads(self.rfile.read(length)))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/hook", received
    finally:
        server.shutdown()
        server.server_close()


@pytest.fixture
def by_email(app, smtp_server):
    port, inbox = smtp_server
    app.config.update(
        NOTIFY_EMAIL_TO=["duty@example.org", "lead@example.org"],
        SMTP_HOST="127.0.0.1",
        SMTP_PORT=port,
        SMTP_FROM="alerts@example.org",
        SMTP_STARTTLS=False,
    )
    return inbox


def test_a_human_text_is_emailed_to_the_coordinators(app, client, session, by_email) -> None:
    text(client, app, ROSA, "HUMAN")
    app.config["PUBLIC_BASE_URL"] = "https://aid.example.org"  # (after the signed text)
    assert jobs.notify_coordinators(app) == 1
    ((to, mail),) = by_email.messages
    assert to == ["duty@example.org", "lead@example.org"]
    assert mail["Subject"] == "Mutual aid: 1 alert (1 human)"
    body = mail.get_payload()
    assert "Someone asked for a person https://aid.example.org/dashboard/people/" in body
    assert "555" not in body  # no phone number
    assert jobs.notify_coordinators(app) == 0  # sent once
    assert len(by_email.messages) == 1


def test_escalations_and_failed_sends_reach_the_webhook_in_one_digest(
    app, session, webhook
) -> None:
    url, received = webhook
    app.config["NOTIFY_WEBHOOK_URL"] = url
    req = builders.aid_request(session, created_at=utcnow() - dt.timedelta(days=3))
    person = builders.person(session)
    from mutualaid.services.outbox import enqueue

    message = enqueue(session, phone=person.phone, body="hello", person_id=person.id)
    message.status = MessageStatus.SENDING
    change_message_status(session, message, MessageStatus.FAILED, error_code=21211, audit=True)
    session.commit()
    jobs.escalate(app)
    assert jobs.notify_coordinators(app) == 2
    ((posted,),) = [received]
    assert posted["text"] == posted["content"]
    assert "2 alerts (1 failed send, 1 escalation)" in posted["text"]
    assert f"Request {req.ref} needs a coordinator" in posted["text"]
    assert "error 21211" in posted["text"]


def test_quiet_hours_hold_alerts_until_they_end(app, client, session, by_email) -> None:
    hour = utcnow().astimezone(dt.UTC).hour
    app.config.update(TIMEZONE="UTC", NOTIFY_QUIET_HOURS=f"{hour}-{(hour + 1) % 24}")
    text(client, app, ROSA, "HUMAN")
    assert jobs.notify_coordinators(app) == 0 and by_email.messages == []
    app.config["NOTIFY_QUIET_HOURS"] = f"{(hour + 1) % 24}-{(hour + 2) % 24}"
    assert jobs.notify_coordinators(app) == 1 and len(by_email.messages) == 1


def test_a_digest_waits_its_interval(app, client, session, by_email) -> None:
    app.config["NOTIFY_DIGEST_MINUTES"] = 60
    text(client, app, ROSA, "HUMAN")
    assert jobs.notify_coordinators(app) == 1
    text(client, app, "+17185550102", "HUMAN")
    text(client, app, "+17185550103", "HUMAN")
    assert jobs.notify_coordinators(app) == 0  # the last digest went less than an hour ago
    session.execute(
        Alert.__table__.update().values(notified_at=utcnow() - dt.timedelta(minutes=61))
        .where(Alert.notified_at.is_not(None))
    )  # fmt: skip
    session.commit()
    assert jobs.notify_coordinators(app) == 2
    assert by_email.messages[-1][1]["Subject"] == "Mutual aid: 2 alerts (2 human)"


def test_off_by_default_nothing_is_sent_and_nothing_piles_up(app, client, session) -> None:
    assert app.config["NOTIFY_EMAIL_TO"] == [] and app.config["NOTIFY_WEBHOOK_URL"] == ""
    text(client, app, ROSA, "HUMAN")
    assert jobs.notify_coordinators(app) == 0
    waiting = select(func.count()).select_from(Alert).where(Alert.notified_at.is_(None))
    assert session.scalar(waiting) == 0


def test_a_growing_backlog_alerts_once_an_hour(app, session) -> None:
    settings = alerts.Settings(backlog_open=2, webhook_url="http://x")
    now = utcnow()
    builders.aid_request(session)
    assert alerts.check_backlog(session, settings, now=now) is None
    builders.aid_request(session)
    first = alerts.check_backlog(session, settings, now=now)
    assert first is not None and first.summary.startswith("2 open requests")
    session.flush()
    builders.aid_request(session)
    assert alerts.check_backlog(session, settings, now=now) is None  # within the hour
    later = alerts.check_backlog(session, settings, now=now + dt.timedelta(hours=2))
    assert later is not None and later.summary.startswith("3 open requests")


def test_an_unreachable_smtp_server_is_retried(app, client, session) -> None:
    app.config.update(
        NOTIFY_EMAIL_TO=["duty@example.org"], SMTP_HOST="127.0.0.1", SMTP_PORT=_free_port(),
        SMTP_FROM="alerts@example.org", SMTP_STARTTLS=False,
    )  # fmt: skip
    text(client, app, ROSA, "HUMAN")
    assert jobs.notify_coordinators(app) == 0
    session.expire_all()
    (alert,) = session.scalars(select(Alert))
    assert alert.notified_at is None and alert.attempts == 1


@pytest.mark.parametrize(
    ("value", "ok"), [("", True), ("22-7", True), ("7-22", True), ("22", False), ("5-5", False)]
)
def test_quiet_hours_setting(value, ok) -> None:
    if ok:
        alerts.parse_quiet_hours(value)
    else:
        with pytest.raises(ValueError):
            alerts.parse_quiet_hours(value)
