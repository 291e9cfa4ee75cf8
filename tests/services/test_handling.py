"""Received texts are handled by the worker, not the webhook: stored first and answered at
once, then handled oldest first, one sender's texts in order and never two at once, a
failing text retried and then set aside, nothing lost."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.extensions import db
from mutualaid.models import Message, MessageDirection, MessageStatus, Person, utcnow
from mutualaid.models.base import set_clock
from mutualaid.services import handling
from tests.sms_helpers import deliver, handle_received, outbox, replies, text

ROSA = "+17185550101"
BEN = "+17185550102"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


def _inbound(session) -> list[Message]:
    session.expire_all()
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == MessageDirection.INBOUND)
            .order_by(Message.id)
        )
    )


def test_the_webhook_stores_and_answers_before_anything_is_handled(
    app, client, session, monkeypatch
) -> None:
    def slow(*args, **kwargs):
        time.sleep(5)

    monkeypatch.setattr(handling, "handle_inbound", slow)
    started = time.monotonic()
    response = deliver(client, app, ROSA, "need groceries 11216")
    assert time.monotonic() - started < 2.5  # it did not wait for the (slow) handling
    assert response.status_code == 200 and response.get_data(as_text=True).endswith("<Response/>")
    (stored,) = _inbound(session)
    assert stored.status is MessageStatus.RECEIVED and stored.body == "need groceries 11216"
    assert session.scalar(select(func.count()).select_from(Person)) == 0
    assert outbox(session) == []

    monkeypatch.undo()
    assert handle_received(app) == 1
    (handled,) = _inbound(session)
    assert handled.status is MessageStatus.PROCESSED and handled.person_id is not None
    assert replies(session, ROSA) == ["need_confirmed"]


def test_one_senders_texts_are_handled_in_the_order_they_arrived(app, client, session) -> None:
    deliver(client, app, ROSA, "need groceries")
    deliver(client, app, BEN, "HELP")
    deliver(client, app, ROSA, "11216")  # the answer to "where?"
    deliver(client, app, ROSA, "STATUS")
    assert [m.status for m in _inbound(session)] == [MessageStatus.RECEIVED] * 4
    assert handle_received(app) == 4
    assert replies(session, ROSA) == ["need_ask_location", "need_confirmed", "status_requester"]
    assert replies(session, BEN) == ["help"]


def test_a_senders_later_text_waits_while_an_earlier_one_waits_for_its_retry(
    app, client, session
) -> None:
    deliver(client, app, ROSA, "need groceries 11216")
    deliver(client, app, ROSA, "STATUS")
    deliver(client, app, BEN, "HELP")
    first = _inbound(session)[0]
    first.next_attempt_at = utcnow() + dt.timedelta(minutes=1)
    session.commit()
    (ready,) = handling.next_batch(session, now=utcnow())
    assert session.get(Message, ready).phone == BEN
    session.rollback()


def test_a_text_that_fails_is_retried_later_then_set_aside_and_nothing_is_lost(
    app, client, session, monkeypatch
) -> None:
    works = handling.handle_inbound

    def broken(session, ctx, message):
        if message.body.startswith("need"):
            raise RuntimeError("a bug")
        works(session, ctx, message)

    monkeypatch.setattr(handling, "handle_inbound", broken)
    assert text(client, app, ROSA, "need groceries 11216").status_code == 200
    deliver(client, app, ROSA, "STATUS")
    (failed, later) = _inbound(session)
    assert failed.status is MessageStatus.RECEIVED and failed.attempts == 1
    assert failed.error_message == "not handled: RuntimeError"
    assert later.status is MessageStatus.RECEIVED  # waits behind the earlier text
    assert handle_received(app) == 0  # not before its retry time

    start = utcnow()
    try:
        set_clock(lambda: start + dt.timedelta(seconds=6))
        assert handle_received(app) == 1  # the failing text, tried again alone
        (failed, later) = _inbound(session)
        assert failed.attempts == 2 and later.status is MessageStatus.RECEIVED
        set_clock(lambda: start + dt.timedelta(seconds=20))
        assert handle_received(app) == 2  # set aside, then the later text is handled
    finally:
        set_clock(None)
    (failed, later) = _inbound(session)
    assert failed.status is MessageStatus.PROCESSED and failed.attempts == 3  # set aside
    assert failed.body == "need groceries 11216"  # for a coordinator to read
    assert later.status is MessageStatus.PROCESSED and later.attempts == 0
    assert replies(session, ROSA) == ["status_none"]


def test_two_workers_never_take_two_texts_of_one_sender_at_once(app, client, session) -> None:
    if db.engine.dialect.name != "postgresql":
        pytest.skip("row locks are PostgreSQL's; SQLite has one writer at a time")
    deliver(client, app, ROSA, "HELP")
    deliver(client, app, ROSA, "STATUS")
    deliver(client, app, BEN, "HELP")
    first, second, third = (Session(db.engine) for _ in range(3))

    def claim_first_ready(s: Session) -> Message | None:
        for message_id in handling.next_batch(s, now=utcnow()):
            if (claimed := handling.claim(s, message_id)) is not None:
                return claimed
        return None

    try:
        a = claim_first_ready(first)
        b = claim_first_ready(second)
        assert (a.phone, a.body) == (ROSA, "HELP")
        assert (b.phone, b.body) == (BEN, "HELP")  # not Rosa's STATUS, nor her locked HELP
        assert claim_first_ready(third) is None
        third.rollback()
        a.status = MessageStatus.PROCESSED
        first.commit()
        c = claim_first_ready(third)
        assert (c.phone, c.body) == (ROSA, "STATUS")
    finally:
        for s in (first, second, third):
            s.rollback()
            s.close()


class TestTheWorker:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"SMS_BACKEND": "fake", "WORKER_POLL_SECONDS": 30}

    def test_an_idle_worker_answers_a_text_within_a_second(self, app, client, session) -> None:
        from mutualaid import worker
        from mutualaid.adapters import reset_fake_sender

        fake = reset_fake_sender()
        stop = threading.Event()
        thread = threading.Thread(target=worker.run, args=(app,), kwargs={"stop": stop})
        thread.start()
        try:
            time.sleep(0.5)  # idle now: the next full round of jobs is 30 s away
            delivered = time.monotonic()
            deliver(client, app, ROSA, "HELP")
            # a new number: the carrier notice, then the answer
            while time.monotonic() - delivered < 10 and len(fake.messages_to(ROSA)) < 2:
                time.sleep(0.05)
            took = time.monotonic() - delivered
        finally:
            stop.set()
            thread.join(timeout=30)
        assert [m.status for m in _inbound(session)] == [MessageStatus.PROCESSED]
        assert [m.template for m in outbox(session, ROSA)] == ["help"]
        assert outbox(session, ROSA)[0].status is MessageStatus.SENT
        assert took < 2.0
