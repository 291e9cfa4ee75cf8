"""The outbox through the real ``twilio`` client against the local fake of Twilio's API:
sent once with the right parameters, retried after 429 and connection failures, never
resent after a read timeout when the message exists, permanent failures marked, status
callbacks applied forward only, and a worker that died mid-send reconciled."""

from __future__ import annotations

import datetime as dt
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from flask import Flask
from sqlalchemy import select

from mutualaid.extensions import db
from mutualaid.models import AuditEvent, Message, MessageStatus, Person, utcnow
from mutualaid.services.outbox import (
    claim_batch,
    enqueue,
    record_delivery_status,
    start_attempt,
)
from mutualaid.services.sending import OutboxSettings, send_due
from mutualaid.unit_of_work import transaction
from mutualaid.worker.jobs import send_outbox
from sms.transport import SendError, TwilioSender
from tests import builders
from tests.fakes.twilio import FakeTwilio, Webhook

S = MessageStatus
FROM = "+15005550006"
PUBLIC = "https://aid.example.org"
TIMEOUT = 0.5  # the fake's stalls are longer


@pytest.fixture
def app_config() -> dict[str, object]:
    return {
        "PUBLIC_BASE_URL": PUBLIC,
        "OUTBOX_MAX_ATTEMPTS": 4,
        "OUTBOX_RETRY_SECONDS": 5.0,
        "OUTBOX_LEASE_SECONDS": 30.0,
    }


def callbacks_to(app: Flask) -> Callable[[Webhook], int]:
    """Status callbacks applied as the /sms/status route applies them once it has checked
    the signature (in the fake's own thread, so in an app context of their own)."""

    def post(webhook: Webhook) -> int:
        ours = parse_qs(urlsplit(webhook.url).query).get("m")
        code = webhook.params.get("ErrorCode")
        with app.app_context():
            record_delivery_status(
                db.session,
                message_id=int(ours[0]) if ours else None,
                provider_sid=webhook.params["MessageSid"],
                status=webhook.params["MessageStatus"],
                error_code=int(code) if code else None,
            )
            db.session.commit()
        return 200

    return post


@pytest.fixture
def fake(app) -> Iterator[FakeTwilio]:
    with FakeTwilio(callback_transport=callbacks_to(app)) as fake:
        yield fake


def _twilio_sender(fake: FakeTwilio, base_url: str | None = None) -> TwilioSender:
    return TwilioSender(
        fake.account_sid,
        fake.auth_token,
        from_number=FROM,
        api_base_url=base_url or fake.base_url,
        connect_timeout=TIMEOUT,
        read_timeout=TIMEOUT,
    )


@pytest.fixture
def sender(fake: FakeTwilio) -> Iterator[TwilioSender]:
    with _twilio_sender(fake) as sender:
        yield sender


@pytest.fixture
def run(app, sender: TwilioSender) -> Callable[..., Any]:
    """One worker pass at a given time (default now)."""

    def run(at: dt.datetime | None = None, *, through: Any = None):
        settings = OutboxSettings.from_config(app.config)
        clock = (lambda: at) if at is not None else utcnow
        return send_due(transaction, through or sender, settings, clock=clock)

    return run


def queue(session, person: Person | None = None, body: str = "hello") -> Message:
    person = person or builders.person(session)
    message = enqueue(session, phone=person.phone, body=body, person_id=person.id)
    assert message is not None
    session.commit()
    return message


def reload(session, message: Message) -> Message:
    """The row as stored now, detached, with the read transaction ended: on SQLite an open
    transaction holds the one write lock, which the fake's callbacks need."""
    session.expire_all()
    row = session.get(Message, message.id)
    session.expunge(row)
    session.rollback()
    return row


def creates(fake: FakeTwilio) -> list[Any]:
    return [r for r in fake.requests if r.method == "POST"]


def test_sent_once_with_the_right_parameters(app, session, fake, sender) -> None:
    person = builders.person(session, phone="+17185550101")
    message = queue(session, person, body="Hola, ¿necesita ayuda?")
    assert send_outbox(app, sender) == 1
    (request,) = creates(fake)
    assert request.params == {
        "To": "+17185550101",
        "From": FROM,
        "Body": "Hola, ¿necesita ayuda?",
        "StatusCallback": f"{PUBLIC}/sms/status?m={message.id}",
    }
    (created,) = fake.messages
    row = reload(session, message)
    assert (row.status, row.provider_sid, row.attempts) == (S.SENT, created["sid"], 1)
    assert send_outbox(app, sender) == 0
    assert len(creates(fake)) == 1


def test_retried_after_429_honouring_retry_after(session, fake, run) -> None:
    message = queue(session)
    fake.fail_next(429, retry_after=20)
    start = utcnow()
    assert run(start).retrying == 1
    row = reload(session, message)
    assert (row.status, row.error_code) == (S.QUEUED, 20429)
    assert row.next_attempt_at >= start + dt.timedelta(seconds=20)
    assert run(start + dt.timedelta(seconds=19)).claimed == 0
    assert run(start + dt.timedelta(seconds=21)).sent == 1
    assert reload(session, message).status is S.SENT
    assert len(fake.messages) == 1 and len(creates(fake)) == 2


def test_retried_after_a_connection_failure(session, fake, run) -> None:
    message = queue(session)
    with socket.socket() as closed:
        closed.bind(("127.0.0.1", 0))
        nobody = f"http://127.0.0.1:{closed.getsockname()[1]}"  # bound, not listening
        with _twilio_sender(fake, nobody) as unreachable:
            start = utcnow()
            assert run(start, through=unreachable).retrying == 1
    row = reload(session, message)
    assert row.status is S.QUEUED and "maybe sent" not in (row.error_message or "")
    assert run(start + dt.timedelta(seconds=7)).sent == 1
    assert len(fake.messages) == 1


def test_a_503_is_retried(session, fake, run) -> None:
    message = queue(session)
    fake.fail_next(503)
    start = utcnow()
    assert run(start).retrying == 1
    assert run(start + dt.timedelta(seconds=7)).sent == 1
    assert reload(session, message).status is S.SENT
    assert len(fake.messages) == 1


def test_read_timeout_is_not_resent_when_the_message_exists(session, fake, run) -> None:
    message = queue(session)
    fake.timeout_next(2.0, after_create=True)  # created, but the answer comes too late
    report = run()
    assert (report.sent, report.found) == (0, 1)
    (created,) = fake.messages
    row = reload(session, message)
    assert (row.status, row.provider_sid) == (S.SENT, created["sid"])
    assert run(utcnow() + dt.timedelta(minutes=5)).claimed == 0
    assert len(creates(fake)) == 1


def test_lost_before_it_reached_twilio_is_resent_after_the_lease(session, fake, run) -> None:
    message = queue(session)
    fake.drop_next(after_create=False)  # the connection drops; nothing was created
    start = utcnow()
    assert run(start).unknown == 1
    row = reload(session, message)
    assert row.status is S.SENDING and row.error_message.startswith("maybe sent")
    assert run(start + dt.timedelta(seconds=10)).claimed == 0  # still under its lease
    report = run(start + dt.timedelta(seconds=31))
    assert (report.claimed, report.sent) == (1, 1)
    assert reload(session, message).status is S.SENT
    assert len(fake.messages) == 1


def test_dropped_after_creation_is_found_not_resent(session, fake, run) -> None:
    message = queue(session)
    fake.drop_next(after_create=True)
    report = run()
    assert report.found == 1
    assert reload(session, message).provider_sid == fake.messages[0]["sid"]
    assert len(fake.messages) == 1


@pytest.mark.parametrize("failed_lookups", [1, 2])
def test_a_lookup_that_fails_once_is_asked_again(session, fake, sender, run, failed_lookups):
    """The lookup after a dropped send meets an error (the same blip, a slow answer): asked
    again, the message is found at once; failing twice, it is left "maybe sent" for after
    its lease, never resent blindly."""
    message = queue(session)
    fake.drop_next(after_create=True)

    class Flaky:
        """The real sender, its first lookups failing."""

        left = failed_lookups

        def __getattr__(self, name):
            return getattr(sender, name)

        def send(self, *args, **kwargs):
            return sender.send(*args, **kwargs)

        def find_messages(self, *args, **kwargs):
            if self.left:
                self.left -= 1
                raise SendError("read timed out", retryable=True, maybe_sent=True)
            return sender.find_messages(*args, **kwargs)

    report = run(through=Flaky())
    if failed_lookups == 1:
        assert (report.found, report.unknown) == (1, 0)
        assert reload(session, message).provider_sid == fake.messages[0]["sid"]
    else:
        assert (report.found, report.unknown) == (0, 1)
        assert reload(session, message).status is S.SENDING
    assert len(fake.messages) == 1


def test_a_worker_killed_after_sending_is_reconciled_not_resent(session, fake, sender, run):
    message = queue(session, body="Reply YES 4821 to help.")
    start = utcnow()
    (claimed,) = claim_batch(session, now=start, limit=1, lease_seconds=30)
    session.commit()
    start_attempt(session, message.id, lease_until=claimed.lease_until, now=start, lease_seconds=30)
    session.commit()
    sender.send(claimed.phone, claimed.body)  # ... and the worker dies before recording
    assert run(start + dt.timedelta(seconds=10)).claimed == 0
    report = run(start + dt.timedelta(seconds=31))
    assert (report.claimed, report.found, report.sent) == (1, 1, 0)
    row = reload(session, message)
    assert (row.status, row.provider_sid, row.attempts) == (S.SENT, fake.messages[0]["sid"], 2)
    assert len(fake.messages) == 1


def test_reconciliation_ignores_a_twin_already_recorded(session, fake, sender, run) -> None:
    """Two messages with one body to one person: the provider's copy of the first is not
    mistaken for the second."""
    person = builders.person(session)
    first = queue(session, person, body="Thanks! Reply DONE when finished.")
    assert run().sent == 1
    second = queue(session, person, body="Thanks! Reply DONE when finished.")
    start = utcnow()
    (claimed,) = claim_batch(session, now=start, limit=1, lease_seconds=30)
    session.commit()
    start_attempt(session, second.id, lease_until=claimed.lease_until, now=start, lease_seconds=30)
    session.commit()  # the worker dies as it starts sending the second
    lookups = len([r for r in fake.requests if r.method == "GET"])
    report = run(start + dt.timedelta(seconds=31))
    assert (report.found, report.sent) == (0, 1)
    assert len([r for r in fake.requests if r.method == "GET"]) == lookups + 1  # it asked
    sids = {reload(session, first).provider_sid, reload(session, second).provider_sid}
    assert sids == {m["sid"] for m in fake.messages} and len(sids) == 2


def test_invalid_number_is_failed_and_the_person_flagged(session, fake, run) -> None:
    person = builders.person(session, phone="+15005550001")  # Twilio's magic invalid number
    message = queue(session, person)
    assert run().failed == 1
    row = reload(session, message)
    assert (row.status, row.error_code) == (S.FAILED, 21211)
    assert "Invalid 'To' Phone Number" in row.error_message
    assert person.phone not in row.error_message
    event = session.scalar(select(AuditEvent).where(AuditEvent.action == "person.unreachable"))
    assert event.subject_id == person.id and event.detail == {"error_code": 21211}
    assert fake.messages == []


def test_unsubscribed_recipient_is_opted_out_and_later_messages_suppressed(
    app, session, fake, run
) -> None:
    person = builders.person(session, phone="+17185550177")
    fake.opt_out(person.phone)  # they texted STOP to Twilio directly
    first = queue(session, person, body="one")
    second = queue(session, person, body="two")  # claimed in the same batch
    report = run()
    assert (report.failed, report.suppressed) == (1, 1)
    session.expire_all()
    person = session.get(Person, person.id)
    assert person.opted_out and person.consent_source == "twilio:21610"
    assert reload(session, first).status is S.FAILED
    assert reload(session, first).error_code == 21610
    assert reload(session, second).status is S.SUPPRESSED
    later = enqueue(session, phone=person.phone, body="three", person_id=person.id)
    session.commit()
    assert later.status is S.SUPPRESSED
    assert run(utcnow() + dt.timedelta(hours=1)).claimed == 0
    assert len(creates(fake)) == 1 and fake.messages == []


def test_opted_out_person_is_never_sent_to(session, fake, run) -> None:
    person = builders.person(session)
    message = queue(session, person)
    person.opted_out, person.opted_out_at = True, utcnow()
    session.commit()
    blocked = builders.person(session, blocked=True)
    enqueue(session, phone=blocked.phone, body="never", person_id=blocked.id)
    session.commit()
    assert run().suppressed == 1
    assert reload(session, message).status is S.SUPPRESSED
    assert creates(fake) == []


def test_status_callbacks_duplicated_and_out_of_order(session, fake, run) -> None:
    message = queue(session)
    run()
    sid = reload(session, message).provider_sid
    fake.deliver(sid, "delivered")
    fake.deliver(sid, "sent")  # late
    fake.deliver(sid, "delivered")  # duplicate
    row = reload(session, message)
    assert row.status is S.DELIVERED and row.delivered_at is not None
    fake.deliver(sid, "undelivered", error_code=30003)  # impossible after delivered
    assert reload(session, message).status is S.DELIVERED


def test_undelivered_then_delivered(session, fake, run) -> None:
    message = queue(session)
    run()
    sid = reload(session, message).provider_sid
    fake.deliver(sid, "undelivered", error_code=30003)
    row = reload(session, message)
    assert (row.status, row.error_code) == (S.UNDELIVERED, 30003)
    fake.deliver(sid, "delivered")
    assert reload(session, message).status is S.DELIVERED


def test_callbacks_racing_the_worker(app, session) -> None:
    """auto_deliver posts sent and delivered right after Twilio's answer, before the
    worker has recorded the send: the callbacks record it, the worker's record is a no-op."""
    messages = [queue(session, body=f"m{n}") for n in range(5)]
    with FakeTwilio(callback_transport=callbacks_to(app), auto_deliver=True) as fake:
        with _twilio_sender(fake) as sender:
            assert send_outbox(app, sender) == 5
        deadline = time.monotonic() + 10
        while len([r for r in fake.requests if r.method == "POST"]) < 5 or any(
            reload(session, m).status is not S.DELIVERED for m in messages
        ):
            assert time.monotonic() < deadline, [reload(session, m) for m in messages]
            time.sleep(0.05)
        sids = {m["body"]: m["sid"] for m in fake.messages}
        assert {m.body: reload(session, m).provider_sid for m in messages} == sids
