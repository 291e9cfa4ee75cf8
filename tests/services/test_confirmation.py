"""services.confirmation directly: a web form's submission waits for its number's
"YES <code>", and only that number with that code, in time, makes it count."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import AidRequest, AuditEvent, Offer, PendingSubmission, Urgency
from mutualaid.services import confirmation
from mutualaid.services.intake import InvalidInput, NewOffer, NewRequest
from tests import builders
from tests.sms_helpers import outbox

ROSA, VERA, MALLORY = "+17185550101", "+17185550111", "+13475550199"
TTL = dt.timedelta(minutes=60)
CATEGORIES = ("groceries", "rides", "meals")


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


def _submit(session, new, *, now=None):
    ctx = sms_context(now)
    return confirmation.submit(
        session, ctx, new, categories=CATEGORIES, ttl=TTL, secret="test-secret"
    )


def _request(phone=ROSA, **fields) -> NewRequest:
    return NewRequest(phone=phone, category="groceries", location_text="11216", **fields)


def test_a_submission_stores_nothing_in_the_persons_name_and_texts_the_code(session) -> None:
    done = _submit(session, _request(urgency=Urgency.URGENT, address="12 Canon Dr"))
    session.commit()
    assert len(done.code) == confirmation.CODE_DIGITS and done.code.isdigit()
    assert session.scalars(select(AidRequest)).first() is None
    (text,) = outbox(session, ROSA)
    assert text.template == "confirm_request" and f"YES {done.code}" in text.body
    assert text.person_id is None  # nobody is created for a number that never answered
    pending = session.scalars(select(PendingSubmission)).one()
    assert pending.payload["address"] == "12 Canon Dr" and pending.payload["urgency"] == "urgent"


def test_only_that_number_with_that_code_in_time_confirms(session) -> None:
    done = _submit(session, _request())
    rosa, mallory = builders.person(session, phone=ROSA), builders.person(session, phone=MALLORY)
    session.commit()
    ctx = sms_context()
    wrong = f"{(int(done.code) + 1 - 10000) % 90000 + 10000}"
    assert confirmation.confirm(session, ctx, rosa, wrong) is None
    assert confirmation.confirm(session, ctx, mallory, done.code) is None  # not her number
    assert confirmation.confirm(session, ctx, rosa, done.code[:4]) is None  # a proposal's code
    late = sms_context(ctx.now + TTL + dt.timedelta(seconds=1))
    assert confirmation.confirm(session, late, rosa, done.code) is None
    confirmed = confirmation.confirm(session, ctx, rosa, done.code)
    assert confirmed is not None and confirmed.request is not None
    assert confirmed.request.requester_id == rosa.id
    assert confirmation.confirm(session, ctx, rosa, done.code) is None  # once only
    events = {
        e.action: e
        for e in session.scalars(select(AuditEvent).where(AuditEvent.actor_id == rosa.id))
    }
    assert events["request.created"].detail["verified"] == confirmation.VERIFIED_BY_SMS
    assert events["submission.confirmed"].actor_type == "person"


def test_an_existing_volunteers_offer_changes_only_once_confirmed(session) -> None:
    vera = builders.person(session, phone=VERA, language="en")
    offer = builders.offer(session, person=vera, categories=("groceries",), capacity=1)
    session.commit()
    new = NewOffer(
        phone=VERA, categories=("rides",), location_text="90210", capacity=10, language="es"
    )
    done = _submit(session, new)
    session.commit()
    session.expire_all()
    assert (offer.categories, offer.capacity, vera.language) == (["groceries"], 1, "en")
    (text,) = outbox(session, VERA)
    assert (
        text.template == "confirm_offer" and "YES" in text.body
    )  # in her language, not the form's
    confirmation.confirm(session, sms_context(), vera, done.code)
    session.commit()
    session.expire_all()
    assert (offer.categories, offer.capacity) == (["rides"], 10)


def test_a_number_gets_a_few_confirmation_texts_an_hour_and_none_after_stop(session) -> None:
    for _ in range(confirmation.TEXTS_PER_NUMBER_PER_HOUR + 2):
        _submit(session, _request())
    assert len(outbox(session, ROSA)) == confirmation.TEXTS_PER_NUMBER_PER_HOUR
    vera = builders.person(session, phone=VERA)
    vera.opted_out = True
    _submit(session, _request(phone=VERA))
    assert [m.status.value for m in outbox(session, VERA)] == ["suppressed"]


def test_what_intake_would_refuse_is_refused_before_anything_is_stored(session) -> None:
    with pytest.raises(InvalidInput):
        _submit(session, NewRequest(phone=ROSA, category="weapons", location_text="11216"))
    with pytest.raises(InvalidInput):
        _submit(
            session, NewOffer(phone=ROSA, categories=("groceries",), location_text="x", capacity=99)
        )
    assert session.scalars(select(PendingSubmission)).first() is None


def test_unconfirmed_submissions_are_forgotten_at_their_expiry(session) -> None:
    _submit(session, _request())
    session.commit()
    pending = session.scalars(select(PendingSubmission)).one()
    assert (
        confirmation.forget_expired(session, now=pending.expires_at - dt.timedelta(seconds=1)) == 0
    )
    assert confirmation.forget_expired(session, now=pending.expires_at) == 1
    session.commit()
    assert session.scalars(select(PendingSubmission)).first() is None
    assert session.scalars(select(Offer)).first() is None
