"""A person asking for a person gets one: HUMAN (or a coordinator's text) opens a thread in
which their free text reaches the coordinators instead of "didn't understand", until a
coordinator marks it handled."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import AidRequest, AuditEvent, Person, utcnow
from mutualaid.services import messaging, threads
from tests import builders

ROSA = "+17185550101"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


def _rosa(session) -> Person:
    session.expire_all()
    return session.scalars(select(Person).where(Person.phone == ROSA)).one()


def _actions(session) -> list[str]:
    return list(session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)))


def test_human_opens_a_thread_linked_to_the_request(sms, session) -> None:
    assert sms("need groceries 11216") == ["need_confirmed"]
    assert sms("HUMAN") == ["human_ack"]
    (thread,) = threads.open_threads(session)
    assert thread.person.id == _rosa(session).id
    assert thread.request is not None and thread.request.category == "groceries"
    # Their free text now reaches the coordinators, unanswered; so does a sentence that
    # only looks like a need.
    assert sms("my rent is late and I am scared") == []
    assert sms("I need to ask you about my rent") == []
    assert len(session.scalars(select(AidRequest)).all()) == 1
    assert threads.open_threads(session)[0].replies == 2
    assert _actions(session).count("thread.replied") == 2
    # Clear commands still work.
    assert sms("STATUS") == ["status_requester"]


def test_a_coordinators_text_opens_a_thread_and_handled_closes_it(app, sms, session) -> None:
    rosa = builders.person(session, phone=ROSA)
    coordinator = builders.coordinator(session)
    messaging.message_person(
        session, rosa, "Hi Rosa, how can we help?", actor=coordinator, now=utcnow()
    )
    session.commit()
    assert sms("thanks, the rent office closed early") == []  # not "didn't understand"
    assert sms("can someone call me back") == []  # not a second HUMAN: it is for them
    (thread,) = threads.open_threads(session)
    rows = threads.thread_messages(session, rosa.id, thread.opened_at)
    assert [m.direction.value for m in rows] == ["outbound", "inbound", "inbound"]
    assert threads.mark_handled(session, rosa.id, actor=coordinator)
    assert not threads.mark_handled(session, rosa.id, actor=coordinator)
    session.commit()
    assert threads.open_threads(session) == []
    assert sms("blah blah") == ["unknown"]
    assert {"thread.opened", "thread.replied", "thread.handled"} <= set(_actions(session))


def test_a_second_human_keeps_one_thread(sms, session) -> None:
    sms("HUMAN")
    opened = threads.open_threads(session)[0].opened_at
    sms("persona")
    (thread,) = threads.open_threads(session)
    assert thread.opened_at == opened and thread.request is None
