"""Poll mode (INBOUND_MODE = "poll"), end to end against the fake Twilio API: a text that
appears at Twilio is fetched by the worker, stored once, handled and answered; the answer's
delivery status is polled instead of called back."""

from __future__ import annotations

import datetime as dt
import threading
import time
from collections.abc import Iterator

import pytest
from sqlalchemy import func, select

from mutualaid.models import Message, MessageDirection, MessageStatus, utcnow
from mutualaid.services import polling
from mutualaid.worker import run
from mutualaid.worker.jobs import poll_twilio
from sms.transport import TwilioSender
from tests.fakes.twilio import FakeTwilio

OURS = "+15005550006"
PERSON = "+17185550101"


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


@pytest.fixture
def app_config(fake: FakeTwilio) -> dict[str, object]:
    return {
        "SMS_BACKEND": "twilio",
        "TWILIO_ACCOUNT_SID": fake.account_sid,
        "TWILIO_AUTH_TOKEN": fake.auth_token,
        "TWILIO_FROM": OURS,
        "TWILIO_API_BASE_URL": fake.base_url,
        "INBOUND_MODE": "poll",
        "TWILIO_POLL_SECONDS": 1.0,
        "WORKER_POLL_SECONDS": 0.2,
        "PUBLIC_BASE_URL": "https://aid.example.org",
    }


@pytest.fixture
def sender(fake: FakeTwilio) -> Iterator[TwilioSender]:
    with TwilioSender(
        fake.account_sid, fake.auth_token, from_number=OURS, api_base_url=fake.base_url
    ) as sender:
        yield sender


def _inbound(session) -> list[Message]:
    session.expire_all()
    return list(
        session.scalars(select(Message).where(Message.direction == MessageDirection.INBOUND))
    )


def _wait_for(condition, seconds: float = 30.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_a_text_at_twilio_is_fetched_handled_and_answered_once(app, session, fake) -> None:
    stop = threading.Event()
    worker = threading.Thread(target=run, args=(app,), kwargs={"stop": stop}, daemon=True)
    worker.start()
    try:
        fake.add_inbound(PERSON, OURS, "HELP")
        # a new number: the carrier notice, then the answer
        _wait_for(lambda: len([m for m in fake.messages if m["to"] == PERSON]) >= 2)
        # a few more polls: the same text is listed again and again, stored once
        polls = len([r for r in fake.requests if r.method == "GET"])
        _wait_for(lambda: len([r for r in fake.requests if r.method == "GET"]) >= polls + 3)
        reply = [m for m in fake.messages if m["to"] == PERSON][-1]
        fake.account.move(reply["sid"], "delivered", None)

        def delivered() -> bool:
            # each look ends its transaction: on SQLite an open one holds the write lock
            try:
                ours = session.scalar(select(Message).where(Message.provider_sid == reply["sid"]))
                return ours is not None and ours.status is MessageStatus.DELIVERED
            finally:
                session.rollback()

        _wait_for(delivered)
    finally:
        stop.set()
        worker.join(timeout=30)
    (received,) = _inbound(session)
    assert received.status is MessageStatus.PROCESSED and received.body == "HELP"
    notice, answer = [m["body"] for m in fake.messages if m["to"] == PERSON]  # each once
    assert "STOP to opt out" in notice and "NEED + what" in answer
    # poll mode names no status callback: nobody could call it
    assert reply["status_callback"] is None


def test_polling_stores_each_text_once(app, session, fake, sender) -> None:
    fake.add_inbound(PERSON, OURS, "need groceries 11216")
    fake.add_inbound("+17185550102", OURS, "HELP")
    now = utcnow()
    first = polling.poll_inbound(session, sender, to=OURS, now=now, region="US", max_body=1600)
    again = polling.poll_inbound(session, sender, to=OURS, now=now, region="US", max_body=1600)
    session.commit()
    assert (len(first), again) == (2, [])
    assert [m.body for m in _inbound(session)] == ["need groceries 11216", "HELP"]


def test_polling_looks_back_from_the_newest_text_we_hold(app, session, fake, sender) -> None:
    now = utcnow()
    fake.add_inbound(PERSON, OURS, "too old", received_at=now - dt.timedelta(hours=7))
    fake.add_inbound(PERSON, OURS, "HELP", received_at=now - dt.timedelta(hours=1))
    polling.poll_inbound(session, sender, to=OURS, now=now, region="US", max_body=1600)
    session.commit()
    assert [m.body for m in _inbound(session)] == ["HELP"]
    sent_after = [r.params.get("DateSent>") for r in fake.requests if r.method == "GET"]
    polling.poll_inbound(session, sender, to=OURS, now=now, region="US", max_body=1600)
    later = [r.params.get("DateSent>") for r in fake.requests if r.method == "GET"][-1]
    assert later > sent_after[0]  # from the newest text we have, less an overlap


def test_sent_messages_are_asked_about_less_and_less_often(app, session, fake, sender) -> None:
    sent = sender.send(PERSON, "hello")
    message = Message(
        direction=MessageDirection.OUTBOUND,
        phone=PERSON,
        body="hello",
        status=MessageStatus.SENT,
        provider_sid=sent.provider_id,
        sent_at=utcnow(),
    )
    session.add(message)
    session.commit()
    checks = polling.Checks.new()
    now = utcnow()
    asked = lambda: len([r for r in fake.requests if r.path.endswith(f"{sent.provider_id}.json")])  # noqa: E731
    assert polling.poll_sent(session, sender, checks, now=now) == 0  # still queued at Twilio
    polling.poll_sent(session, sender, checks, now=now + dt.timedelta(seconds=1))
    assert asked() == 1  # not again before its next time
    fake.account.move(sent.provider_id, "delivered", None)
    assert polling.poll_sent(session, sender, checks, now=now + dt.timedelta(seconds=6)) == 1
    session.commit()
    session.refresh(message)
    assert message.status is MessageStatus.DELIVERED and asked() == 2
    assert polling.poll_sent(session, sender, checks, now=now + dt.timedelta(minutes=1)) == 0
    assert asked() == 2 and not checks.due  # delivered: never asked again


def test_a_failed_delivery_is_applied_as_a_callback_would(app, session, fake, sender) -> None:
    sent = sender.send(PERSON, "hello")
    session.add(
        Message(
            direction=MessageDirection.OUTBOUND,
            phone=PERSON,
            body="hello",
            status=MessageStatus.SENT,
            provider_sid=sent.provider_id,
            sent_at=utcnow(),
        )
    )
    session.commit()
    fake.account.move(sent.provider_id, "undelivered", 30006)
    polling.poll_sent(session, sender, polling.Checks.new(), now=utcnow())
    session.commit()
    message = session.scalar(select(Message).where(Message.provider_sid == sent.provider_id))
    assert (message.status, message.error_code) == (MessageStatus.FAILED, 30006)


def test_webhook_mode_polls_nothing(app, session, fake) -> None:
    app.config["INBOUND_MODE"] = "webhook"
    fake.add_inbound(PERSON, OURS, "HELP")
    assert poll_twilio(app, force=True) == 0
    assert session.scalar(select(func.count()).select_from(Message)) == 0
    assert fake.requests == []
