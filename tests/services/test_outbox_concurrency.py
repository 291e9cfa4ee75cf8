"""Several workers at once never claim or send one message twice: threads, each with its
own session, on SQLite (one writer at a time) and PostgreSQL (FOR UPDATE SKIP LOCKED)."""

from __future__ import annotations

import threading
from collections import Counter

import pytest
from flask import Flask
from sqlalchemy import func, select

from mutualaid.extensions import db
from mutualaid.models import Message, MessageStatus, utcnow
from mutualaid.services.outbox import claim_batch, enqueue
from mutualaid.services.sending import OutboxSettings, send_due
from mutualaid.unit_of_work import transaction
from sms.transport import TwilioSender
from tests import builders
from tests.fakes.twilio import FakeTwilio

S = MessageStatus
WORKERS = 4


def fill(session, count: int) -> None:
    people = [builders.person(session) for _ in range(10)]
    for n in range(count):
        person = people[n % len(people)]
        enqueue(session, phone=person.phone, body=f"message {n}", person_id=person.id)
    session.commit()


def in_threads(app: Flask, work, count: int = WORKERS) -> list:
    """Run ``work(index)`` in ``count`` threads that start together, each in its own app
    context (so its own session and connection); their results, or re-raise."""
    barrier = threading.Barrier(count)
    results: list = [None] * count
    errors: list[BaseException] = []

    def target(index: int) -> None:
        try:
            with app.app_context():
                barrier.wait()
                results[index] = work(index)
                db.session.remove()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    if errors:
        raise errors[0]
    return results


def test_concurrent_claims_are_disjoint(app, session) -> None:
    fill(session, 60)
    now = utcnow()

    def claim(_: int) -> list[int]:
        claimed = []
        while True:
            with transaction() as s:
                batch = claim_batch(s, now=now, limit=5, lease_seconds=60)
                ids = [m.id for m in batch]
            if not ids:
                return claimed
            claimed.extend(ids)

    results = in_threads(app, claim)
    everything = [i for ids in results for i in ids]
    assert len(everything) == 60 and len(set(everything)) == 60
    assert session.scalar(select(func.max(Message.attempts))) == 1


@pytest.fixture
def fake() -> FakeTwilio:
    with FakeTwilio() as fake:
        yield fake


def test_concurrent_workers_send_each_message_once(app, session, fake) -> None:
    fill(session, 200)
    settings = OutboxSettings(batch_size=10, lease_seconds=60)

    def work(_: int) -> int:
        handled = 0
        with TwilioSender(
            fake.account_sid,
            fake.auth_token,
            from_number="+15005550006",
            api_base_url=fake.base_url,
            connect_timeout=2,
            read_timeout=5,
        ) as sender:
            while report := send_due(transaction, sender, settings):
                if not report.claimed:
                    return handled
                handled += report.sent
        return handled

    sent_per_worker = in_threads(app, work)
    assert sum(sent_per_worker) == 200
    bodies = Counter(m["body"] for m in fake.messages)
    assert len(bodies) == 200 and max(bodies.values()) == 1
    rows = session.scalars(select(Message)).all()
    assert {m.status for m in rows} == {S.SENT}
    assert {m.provider_sid for m in rows} == {m["sid"] for m in fake.messages}
    assert max(m.attempts for m in rows) == 1
