"""Posting SMS to the app exactly as Twilio does: form-encoded and signed."""

from __future__ import annotations

import itertools
import uuid
from collections.abc import Callable
from typing import Any

from flask import Flask, current_app, has_app_context
from flask.testing import FlaskClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.adapters import sms_auth_token
from mutualaid.models import Message, MessageDirection
from sms.signature import compute_signature
from sms.transport import TwilioSender

SERVICE_NUMBER = "+15005550006"
_n = itertools.count()


def signed_post(
    client: FlaskClient,
    app: Flask,
    path: str,
    params: dict[str, str],
    *,
    url: str | None = None,
    headers: dict[str, str] | None = None,
):
    """POST ``params`` to ``path`` with the signature Twilio computes over ``url`` (by
    default the URL the test client calls)."""
    url = url or f"http://localhost{path}"
    signature = compute_signature(sms_auth_token(app.config), url, params)
    return client.post(
        path, data=params, headers={"X-Twilio-Signature": signature, **(headers or {})}
    )


def text(client: FlaskClient, app: Flask, sender: str, body: str, **extra: str):
    """A person texts ``body`` to the service and the worker handles it (as it would a
    fraction of a second later); returns the webhook's response."""
    response = deliver(client, app, sender, body, **extra)
    handle_received(app)
    return response


def deliver(client: FlaskClient, app: Flask, sender: str, body: str, **extra: str):
    """Only the webhook's part of a text: stored, not yet handled; its response."""
    params = {
        "MessageSid": extra.pop("MessageSid", f"SM{uuid.uuid4().hex}"),
        "AccountSid": "AC" + "0" * 32,
        "From": sender,
        "To": SERVICE_NUMBER,
        "Body": body,
        "NumMedia": "0",
        **extra,
    }
    return signed_post(client, app, "/sms/inbound", params)


def handle_received(app: Flask) -> int:
    """What the worker does with received texts (jobs.handle_received), all of them; how
    many it handled. Like the webhook under the test client, it runs in the test's app
    context when there is one (its session: each text is committed)."""
    from mutualaid.worker import jobs

    if has_app_context() and current_app._get_current_object() is app:  # type: ignore[attr-defined]
        return jobs.handle_received(app, limit=10_000, max_seconds=float("inf"))
    with app.app_context():
        return jobs.handle_received(app, limit=10_000, max_seconds=float("inf"))


def twilio_sender(fake: Any, **settings: Any) -> TwilioSender:
    """The real twilio client's sender, talking to the fake Twilio API ``fake``."""
    return TwilioSender(
        fake.account_sid,
        fake.auth_token,
        **{"from_number": SERVICE_NUMBER, **settings},
        api_base_url=fake.base_url,
        connect_timeout=2,
        read_timeout=5,
    )


def phones_of(app: Flask, fake: Any, sender: TwilioSender) -> Callable[[], list[tuple[str, str]]]:
    """``run()`` sends the outbox as the worker does, through ``sender`` to the fake Twilio
    API, and returns what the phones received meanwhile, as (to, body)."""
    from mutualaid.worker.jobs import send_outbox

    def run() -> list[tuple[str, str]]:
        before = len(fake.messages)
        while send_outbox(app, sender):
            pass
        return [(m["to"], m["body"]) for m in fake.messages[before:]]

    return run


def outbox(session: Session, phone: str | None = None, *, notices: bool = False) -> list[Message]:
    """Messages queued (to ``phone``), in order; the carrier notice that precedes a
    number's first text (``first_notice``) only with ``notices``: tests of what the service
    answers read the answers (tests/services/test_notify.py checks the notice)."""
    query = select(Message).where(Message.direction == MessageDirection.OUTBOUND)
    if not notices:
        query = query.where(Message.template.is_distinct_from("first_notice"))
    if phone:
        query = query.where(Message.phone == phone)
    session.expire_all()
    return list(session.scalars(query.order_by(Message.id)))


def replies(session: Session, phone: str) -> list[str]:
    """Templates of the messages queued to ``phone``, in order."""
    return [m.template or "" for m in outbox(session, phone)]


def last_body(session: Session, phone: str) -> str:
    return outbox(session, phone)[-1].body


def confirmation_code(session: Session, phone: str) -> str:
    """The code of the last "reply YES 12345 to confirm" text queued to ``phone``."""
    import re

    for message in reversed(outbox(session, phone)):
        if (message.template or "").startswith("confirm_"):
            found = re.search(r"(?:YES|SI) (\d{5})", message.body)
            assert found, message.body
            return found.group(1)
    raise AssertionError(f"no confirmation was texted to {phone}")


def confirm_by_sms(client: FlaskClient, app: Flask, session: Session, phone: str):
    """The person whose number a web form gave answers our text: "YES <code>"."""
    return text(client, app, phone, f"YES {confirmation_code(session, phone)}")
