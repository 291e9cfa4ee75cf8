"""The outbox without a network: claims and leases, backoff, opt-outs at send time, and
delivery callbacks that only move forward (through the in-memory FakeSender)."""

from __future__ import annotations

import datetime as dt
import random

import pytest
from sqlalchemy import select

from mutualaid.adapters import build_sender, fake_sender, reset_fake_sender
from mutualaid.extensions import db
from mutualaid.models import AuditEvent, Message, MessageStatus, Person, utcnow
from mutualaid.services import outbox
from mutualaid.services.outbox import claim_batch, enqueue, record_delivery_status, retry_delay
from mutualaid.services.sending import OutboxSettings, send_due
from mutualaid.unit_of_work import transaction
from mutualaid.worker import jobs_in_order
from mutualaid.worker.jobs import send_outbox
from sms.transport import ConsoleSender, FakeSender, SendError, SendResult, TwilioSender
from tests import builders

S = MessageStatus
SETTINGS = OutboxSettings(
    max_attempts=3, retry_seconds=5.0, lease_seconds=60.0, public_base_url="https://aid.example"
)


def later(seconds: float) -> dt.datetime:
    return utcnow() + dt.timedelta(seconds=seconds)


def queue(session, person: Person | None = None, body: str = "hello", **kw) -> Message:
    person = person or builders.person(session)
    message = enqueue(session, phone=person.phone, body=body, person_id=person.id, **kw)
    assert message is not None
    session.commit()
    return message


def reload(session, message: Message) -> Message:
    session.expire_all()
    return session.get(Message, message.id)


def events(session, action: str) -> list[AuditEvent]:
    return list(session.scalars(select(AuditEvent).where(AuditEvent.action == action)))


@pytest.fixture
def sender() -> FakeSender:
    return reset_fake_sender()


def run_pass(sender, *, at: dt.datetime | None = None, settings: OutboxSettings = SETTINGS):
    return send_due(transaction, sender, settings, clock=(lambda: at) if at else utcnow)


# -- claims -------------------------------------------------------------------------


def test_claim_takes_due_queued_messages_and_expired_leases_only(session) -> None:
    due = queue(session, body="due")
    future = queue(session, body="future")
    leased = queue(session, body="leased")
    expired = queue(session, body="expired")
    now = utcnow()
    future.next_attempt_at = now + dt.timedelta(minutes=5)
    session.commit()
    claim_batch(session, now=now, limit=10, lease_seconds=60)  # all three due ones
    session.commit()
    expired.lease_until = now - dt.timedelta(seconds=1)
    session.commit()

    batch = claim_batch(session, now=now, limit=10, lease_seconds=60)
    session.commit()
    assert [m.id for m in batch] == [expired.id]
    assert batch.reclaimed_ids == {expired.id}
    assert batch.maybe_sent_ids == set()  # claimed, never tried: plainly unsent
    assert reload(session, expired).attempts == 2
    assert reload(session, leased).status is S.SENDING
    assert reload(session, future).status is S.QUEUED
    first = reload(session, due)
    assert (first.status, first.attempts) == (S.SENDING, 1)
    assert first.lease_until == now + dt.timedelta(seconds=60)


def test_a_row_whose_attempt_had_started_is_reclaimed_as_maybe_sent(session) -> None:
    message = queue(session)
    now = utcnow()
    (claimed,) = claim_batch(session, now=now, limit=1, lease_seconds=60)
    session.commit()
    state, lease = outbox.start_attempt(
        session, message.id, lease_until=claimed.lease_until, now=now, lease_seconds=60
    )
    session.commit()
    assert state is S.SENDING and lease == now + dt.timedelta(seconds=60)
    assert reload(session, message).next_attempt_at == now  # the attempt's start
    assert not claim_batch(session, now=now + dt.timedelta(seconds=59), limit=1, lease_seconds=60)
    batch = claim_batch(session, now=now + dt.timedelta(seconds=61), limit=1, lease_seconds=60)
    session.commit()
    assert batch.reclaimed_ids == batch.maybe_sent_ids == {message.id}
    assert reload(session, message).next_attempt_at is None


def test_claim_respects_the_limit_and_skips_suppressed_and_inbound(session) -> None:
    muted = builders.person(session, opted_out=True, opted_out_at=utcnow())
    enqueue(session, phone=muted.phone, body="never", person_id=muted.id)
    for n in range(5):
        queue(session, body=f"m{n}")
    batch = claim_batch(session, now=utcnow(), limit=3, lease_seconds=60)
    session.commit()
    assert len(batch) == 3 and not batch.reclaimed_ids
    assert all(m.body.startswith("m") for m in batch)
    assert session.scalar(select(Message).where(Message.body == "never")).status is S.SUPPRESSED


# -- sending ------------------------------------------------------------------------


def test_a_message_is_sent_once_with_its_status_callback(app, session, sender) -> None:
    message = queue(session, body="Your request T1 is in.")
    report = run_pass(sender)
    assert (report.claimed, report.sent) == (1, 1)
    (sent,) = sender.sent
    assert sent.body == "Your request T1 is in."
    assert sent.status_callback == f"https://aid.example/sms/status?m={message.id}"
    row = reload(session, message)
    assert (row.status, row.provider_sid, row.attempts) == (S.SENT, sent.provider_id, 1)
    assert row.sent_at is not None and row.lease_until is None
    assert run_pass(sender).claimed == 0
    assert len(sender.sent) == 1


def test_no_status_callback_without_a_public_address(session, sender) -> None:
    queue(session)
    run_pass(sender, settings=OutboxSettings())
    assert sender.sent[0].status_callback is None


class TransactionWatcher:
    """A sender that fails the test if it is called while a transaction is open."""

    def __init__(self) -> None:
        self.inner = FakeSender()
        self.open_during_send: list[bool] = []

    def send(
        self, to: str, body: str, *, status_callback: str | None = None, label: str | None = None
    ) -> SendResult:
        self.open_during_send.append(db.session().in_transaction())
        return self.inner.send(to, body, status_callback=status_callback)

    def close(self) -> None:
        pass


def test_the_provider_is_never_called_inside_a_transaction(session) -> None:
    for n in range(5):
        queue(session, body=f"m{n}")
    watcher = TransactionWatcher()
    watcher.inner.fail_next(SendError("429", code=20429, retryable=True), times=2)
    run_pass(watcher)
    run_pass(watcher, at=later(3600))
    assert watcher.open_during_send == [False] * 7
    assert len(watcher.inner.sent) == 5


def test_opted_out_or_blocked_at_send_time_is_suppressed_not_sent(session, sender) -> None:
    stopper = builders.person(session)
    blocked = builders.person(session)
    first = queue(session, stopper, body="proposal")
    second = queue(session, blocked, body="update")
    # After queueing, before the worker: one texts STOP, the other is blocked.
    stopper.opted_out, stopper.opted_out_at = True, utcnow()
    blocked.blocked = True
    session.commit()
    confirmation = queue(session, stopper, body="You are unsubscribed.", even_if_opted_out=True)

    report = run_pass(sender)
    assert report.suppressed == 2
    assert [m.body for m in sender.sent] == ["You are unsubscribed."]
    assert reload(session, first).status is S.SUPPRESSED
    assert reload(session, second).status is S.SUPPRESSED
    assert reload(session, confirmation).status is S.SENT
    assert {e.subject_id for e in events(session, "message.suppressed")} == {first.id, second.id}


def test_transient_failures_back_off_then_succeed(session, sender) -> None:
    message = queue(session)
    sender.fail_next(SendError("Too Many Requests", code=20429, retryable=True, retry_after=30))
    start = utcnow()
    assert run_pass(sender, at=start).retrying == 1
    row = reload(session, message)
    assert (row.status, row.attempts, row.error_code) == (S.QUEUED, 1, 20429)
    # Retry-After (30 s) beats the first backoff (5 s ± 20 %).
    assert row.next_attempt_at >= start + dt.timedelta(seconds=30)
    assert run_pass(sender, at=start + dt.timedelta(seconds=10)).claimed == 0
    assert run_pass(sender, at=start + dt.timedelta(seconds=31)).sent == 1
    row = reload(session, message)
    assert (row.status, row.attempts, row.error_code) == (S.SENT, 2, None)
    assert len(sender.sent) == 1


def test_retries_stop_after_the_last_attempt(session, sender) -> None:
    message = queue(session)
    sender.fail_next(SendError("unreachable", code=30003, retryable=True), times=10)
    at = utcnow()
    for _ in range(SETTINGS.max_attempts):
        run_pass(sender, at=at)
        at += dt.timedelta(hours=2)
    row = reload(session, message)
    assert (row.status, row.attempts, row.error_code) == (S.FAILED, SETTINGS.max_attempts, 30003)
    assert run_pass(sender, at=at).claimed == 0
    assert sender.attempts == SETTINGS.max_attempts


def test_a_request_the_provider_will_never_take_fails_at_once(session, sender) -> None:
    message = queue(session)
    sender.fail_next(SendError("Message body is required.", code=21602, http_status=400))
    assert run_pass(sender).failed == 1
    assert reload(session, message).status is S.FAILED
    assert not events(session, "person.unreachable")


def test_unsubscribed_error_opts_the_person_out_and_suppresses_the_rest(session, sender) -> None:
    person = builders.person(session)
    first = queue(session, person, body="one")
    sender.fail_for(person.phone, SendError.from_code(21610, "unsubscribed", http_status=400))
    run_pass(sender, settings=OutboxSettings(batch_size=1))
    session.expire_all()
    person = session.get(Person, person.id)
    assert person.opted_out and person.consent_source == "twilio:21610"
    assert person.opted_out_at is not None
    assert reload(session, first).status is S.FAILED
    assert reload(session, first).error_code == 21610
    (event,) = events(session, "person.opted_out")
    assert (event.subject_id, event.detail) == (person.id, {"source": "twilio:21610"})
    later_message = enqueue(session, phone=person.phone, body="three", person_id=person.id)
    session.commit()
    assert later_message.status is S.SUPPRESSED
    assert sender.sent == []


def test_unsubscribed_error_suppresses_messages_already_queued(session, sender) -> None:
    person = builders.person(session)
    queued = [queue(session, person, body=f"m{n}") for n in range(3)]
    sender.fail_for(person.phone, SendError.from_code(21610, "unsubscribed", http_status=400))
    run_pass(sender, settings=OutboxSettings(batch_size=1))
    statuses = [reload(session, m).status for m in queued]
    assert statuses == [S.FAILED, S.SUPPRESSED, S.SUPPRESSED]
    assert run_pass(sender).claimed == 0
    assert sender.attempts == 1


def test_an_invalid_number_fails_and_flags_the_person(session, sender) -> None:
    person = builders.person(session)
    message = queue(session, person)
    sender.fail_next(SendError.from_code(21211, "Invalid 'To' Phone Number", http_status=400))
    run_pass(sender)
    row = reload(session, message)
    assert (row.status, row.error_code) == (S.FAILED, 21211)
    (event,) = events(session, "person.unreachable")
    assert (event.subject_id, event.detail) == (person.id, {"error_code": 21211})
    assert not session.get(Person, person.id).opted_out


def test_error_texts_are_stored_and_logged_without_numbers(session, sender, caplog) -> None:
    person = builders.person(session, phone="+17185550123")
    message = queue(session, person)
    error = SendError.from_code(21211, "Invalid 'To' Phone Number: +17185550123", http_status=400)
    sender.fail_next(error)
    run_pass(sender)
    assert reload(session, message).error_message == "Invalid 'To' Phone Number: [number]"
    assert "5550123" not in caplog.text
    assert outbox.without_numbers("call (718) 555-0123 or 718.555.0124") == (
        "call [number] or [number]"
    )


def test_maybe_sent_without_a_provider_to_ask_is_resent_after_the_lease(session, sender) -> None:
    """The console and fake senders cannot be asked what they sent: once the lease has
    expired, a message whose send timed out is treated as unsent."""
    message = queue(session)
    sender.fail_next(SendError("ReadTimeout", retryable=True, maybe_sent=True))
    start = utcnow()
    assert run_pass(sender, at=start).unknown == 1
    row = reload(session, message)
    assert (row.status, row.error_message) == (S.SENDING, "maybe sent: ReadTimeout")
    assert run_pass(sender, at=start + dt.timedelta(seconds=30)).claimed == 0
    assert run_pass(sender, at=start + dt.timedelta(seconds=61)).sent == 1
    assert reload(session, message).status is S.SENT
    assert len(sender.sent) == 1


def test_a_row_taken_over_after_its_lease_is_not_recorded_by_the_old_worker(session) -> None:
    message = queue(session)
    now = utcnow()
    (claimed,) = claim_batch(session, now=now, limit=1, lease_seconds=60)
    old_lease = claimed.lease_until
    session.commit()
    claim_batch(session, now=now + dt.timedelta(seconds=61), limit=1, lease_seconds=60)
    session.commit()
    status = outbox.record_send_error(
        session,
        message.id,
        SendError("429", code=20429, retryable=True),
        lease_until=old_lease,
        now=now,
        max_attempts=8,
        retry_seconds=5,
    )
    assert status is None
    assert reload(session, message).status is S.SENDING


@pytest.mark.parametrize(
    ("attempts", "retry_after", "low", "high"),
    [(1, None, 4.0, 6.0), (2, None, 8.0, 12.0), (4, None, 32.0, 48.0), (3, 60.0, 60.0, 60.0)],
)
def test_retry_delay_doubles_with_jitter(attempts, retry_after, low, high) -> None:
    rng = random.Random(1)
    delays = [retry_delay(attempts, 5.0, retry_after=retry_after, rng=rng) for _ in range(200)]
    assert low <= min(delays) and max(delays) <= high
    if retry_after is None:
        assert max(delays) - min(delays) > (high - low) / 2  # really jittered


def test_retry_delay_is_capped() -> None:
    assert retry_delay(40, 5.0, rng=random.Random(1)) <= outbox.MAX_RETRY_DELAY * 1.2


# -- delivery status callbacks ------------------------------------------------------


def sent_message(session, sender) -> Message:
    message = queue(session)
    run_pass(sender)
    return reload(session, message)


def callback(session, message: Message, status: str, error_code: int | None = None, **kw):
    changed = record_delivery_status(
        session,
        message_id=kw.get("message_id", message.id),
        provider_sid=kw.get("provider_sid", message.provider_sid or ""),
        status=status,
        error_code=error_code,
    )
    session.commit()
    return changed, reload(session, message).status


@pytest.mark.parametrize(
    ("sequence", "final"),
    [
        (["sent", "delivered"], S.DELIVERED),
        (["delivered", "sent"], S.DELIVERED),
        (["delivered", "delivered", "sent", "queued"], S.DELIVERED),
        (["undelivered", "delivered"], S.DELIVERED),
        (["delivered", "undelivered"], S.DELIVERED),
        (["delivered", "failed"], S.DELIVERED),
        (["queued", "sending", "sent", "undelivered"], S.UNDELIVERED),
        (["failed", "delivered"], S.FAILED),
        (["accepted", "read"], S.DELIVERED),
        (["receiving", "nonsense"], S.SENT),
    ],
)
def test_callbacks_only_move_forward(session, sender, sequence, final) -> None:
    message = sent_message(session, sender)
    for status in sequence:
        callback(session, message, status)
    row = reload(session, message)
    assert row.status is final
    assert (row.delivered_at is not None) is (final is S.DELIVERED)


def test_a_duplicate_callback_changes_nothing(session, sender) -> None:
    message = sent_message(session, sender)
    assert callback(session, message, "delivered") == (True, S.DELIVERED)
    assert callback(session, message, "delivered") == (False, S.DELIVERED)


def test_callback_found_by_provider_sid_without_our_id(session, sender) -> None:
    message = sent_message(session, sender)
    assert callback(session, message, "delivered", message_id=None) == (True, S.DELIVERED)


def test_callback_for_an_unknown_message_is_ignored(session, sender) -> None:
    message = sent_message(session, sender)
    assert (
        record_delivery_status(
            session, message_id=None, provider_sid="SMnope", status="delivered", error_code=None
        )
        is False
    )
    # Our id with another message's provider id: not trusted.
    assert callback(session, message, "delivered", provider_sid="SMother") == (False, S.SENT)


def test_a_callback_that_beats_the_worker_records_the_send(session) -> None:
    message = queue(session)
    claim_batch(session, now=utcnow(), limit=1, lease_seconds=60)
    session.commit()
    assert callback(session, message, "delivered", provider_sid="SM123") == (True, S.DELIVERED)
    row = reload(session, message)
    assert row.provider_sid == "SM123" and row.sent_at is not None
    # The worker's own record comes second and changes nothing.
    assert not outbox.record_sent(session, message.id, provider_sid="SM123", now=utcnow())


def test_undelivered_with_a_transient_code_keeps_the_person(session, sender) -> None:
    message = sent_message(session, sender)
    assert callback(session, message, "undelivered", 30003) == (True, S.UNDELIVERED)
    assert reload(session, message).error_code == 30003
    assert not events(session, "person.unreachable")


def test_undelivered_with_a_permanent_code_is_a_failure(session, sender) -> None:
    message = sent_message(session, sender)
    assert callback(session, message, "undelivered", 30006) == (True, S.FAILED)
    (event,) = events(session, "person.unreachable")
    assert event.subject_id == message.person_id
    assert callback(session, message, "undelivered", 30006) == (False, S.FAILED)
    assert len(events(session, "person.unreachable")) == 1


def test_a_callback_with_the_opt_out_code_opts_the_person_out(session, sender) -> None:
    message = sent_message(session, sender)
    person = session.get(Person, message.person_id)
    pending = queue(session, person, body="later")
    assert callback(session, message, "failed", 21610) == (True, S.FAILED)
    session.expire_all()
    assert session.get(Person, person.id).consent_source == "twilio:21610"
    assert reload(session, pending).status is S.SUPPRESSED


# -- the worker and its sender ------------------------------------------------------


def test_the_worker_runs_send_outbox(app, session) -> None:
    assert send_outbox in jobs_in_order()
    app.config["SMS_BACKEND"] = "fake"
    app.extensions.pop("mutualaid.sms_sender", None)
    fake = reset_fake_sender()
    queue(session, body="via the job")
    assert send_outbox(app) == 1
    assert [m.body for m in fake.sent] == ["via the job"]
    assert send_outbox(app) == 0
    assert app.extensions["mutualaid.sms_sender"] is fake_sender()


def test_build_sender_from_settings() -> None:
    base = {
        "TWILIO_ACCOUNT_SID": "AC" + "1" * 32,
        "TWILIO_AUTH_TOKEN": "token",
        "TWILIO_FROM": "+15005550006",
        "TWILIO_MESSAGING_SERVICE_SID": "",
        "TWILIO_API_BASE_URL": "http://127.0.0.1:9",
        "TWILIO_CONNECT_TIMEOUT": 2.0,
        "TWILIO_READ_TIMEOUT": 7.0,
        "WHATSAPP_FROM": "+14155238886",
    }
    assert isinstance(build_sender({**base, "SMS_BACKEND": "console"}), ConsoleSender)
    console = build_sender({**base, "SMS_BACKEND": "console", "ENV": "production"})
    assert isinstance(console, ConsoleSender) and not console.show_bodies
    console = build_sender({**base, "SMS_BACKEND": "console", "ENV": "development"})
    assert isinstance(console, ConsoleSender) and console.show_bodies
    assert build_sender({**base, "SMS_BACKEND": "fake"}) is fake_sender()
    twilio = build_sender({**base, "SMS_BACKEND": "twilio"})
    try:
        assert isinstance(twilio, TwilioSender)
        assert twilio.from_number == "+15005550006"
        assert twilio.whatsapp_from == "+14155238886"
        assert twilio.http_client.timeout == (2.0, 7.0)
        assert twilio.http_client.api_base_url == "http://127.0.0.1:9"
    finally:
        twilio.close()
