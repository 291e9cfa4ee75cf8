"""SMS conversations end to end through the signed webhook: every intent in English and
Spanish, typos, numbered choices, split needs, stale questions, STOP/START."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from mutualaid.models import (
    AidRequest,
    Channel,
    Conversation,
    Offer,
    Person,
    RequestStatus,
    Urgency,
)
from tests import builders
from tests.sms_helpers import last_body, outbox, replies, text

ROSA = "+17185550101"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


@pytest.fixture
def sms(app, client, session):
    """Text the service as ROSA and get back the templates of the new replies."""

    def send(body: str, sender: str = ROSA) -> list[str]:
        before = len(outbox(session, sender))
        response = text(client, app, sender, body)
        assert response.status_code == 200
        return replies(session, sender)[before:]

    return send


def _person(session, phone: str = ROSA) -> Person:
    session.expire_all()
    return session.scalars(select(Person).where(Person.phone == phone)).one()


def _requests(session) -> list[AidRequest]:
    session.expire_all()
    return list(session.scalars(select(AidRequest).order_by(AidRequest.id)))


@pytest.mark.parametrize(
    ("body", "reply", "language", "says"),
    [
        ("HELP", "help", "en", "NEED"),
        ("info", "help", "en", "NEED"),
        ("AYUDA", "help", "es", "NECESITO"),
        ("STATUS", "status_none", "en", "OFFER"),
        ("estado", "status_none", "es", "OFREZCO"),
        ("YES", "nothing_pending", "en", "nothing"),
        ("yse", "nothing_pending", "en", "nothing"),
        ("si", "nothing_pending", "es", "nada"),
        ("NO", "nothing_pending", "en", "nothing"),
        ("DONE", "nothing_pending", "en", "nothing"),
        ("listo", "nothing_pending", "es", "nada"),
        ("CANCEL please", "nothing_to_cancel", "en", "no open request"),
        ("cancelar", "nothing_to_cancel", "es", "NECESITO"),
        ("PAUSE", "status_none", "en", "OFFER"),
        ("HUMAN", "human_ack", "en", "coordinator"),
        ("persona", "human_ack", "es", "coordinador"),
        ("blah blah", "unknown", "en", "HELP"),
    ],
)
def test_each_command_answers_in_the_right_language(sms, session, body, reply, language, says):
    assert sms(body) == [reply]
    assert says in last_body(session, ROSA)
    assert _person(session).language == language


@pytest.mark.parametrize(
    ("body", "category", "label", "language"),
    [
        ("need groceries 11216", "groceries", "11216 Brooklyn", "en"),
        ("NEED FOOD 11216!!", "groceries", "11216 Brooklyn", "en"),
        ("necesito medicina cerca de Fulton St", "pharmacy", "Fulton St & Nostrand Ave", "es"),
        ("NECESITO comida 11216", "groceries", "11216 Brooklyn", "es"),
        ("nede a ride to the clinic 11216", "rides", "11216 Brooklyn", "en"),
    ],
)
def test_a_need_in_one_text(sms, session, body, category, label, language) -> None:
    assert sms(body) == ["need_confirmed"]
    (req,) = _requests(session)
    assert (req.category, req.location_label, req.channel) == (category, label, Channel.SMS)
    assert req.status is RequestStatus.OPEN and req.language == language
    assert req.ref in last_body(session, ROSA)


def test_a_need_split_over_two_texts(sms, session) -> None:
    assert sms("need groceries") == ["need_ask_location"]
    assert _requests(session) == []
    assert sms("Bed Stuy") == ["need_confirmed"]
    (req,) = _requests(session)
    assert req.category == "groceries" and req.location_label == "Bedford-Stuyvesant"


def test_numbered_choices(sms, session) -> None:
    assert sms("I need help") == ["need_ask_category"]
    assert "2 Hot meals" in last_body(session, ROSA)
    assert sms("9") == ["choice_invalid"]
    assert sms("2") == ["need_ask_location"]
    assert "Hot meals" in last_body(session, ROSA)
    assert sms("11216") == ["need_confirmed"]
    assert _requests(session)[0].category == "meals"


def test_a_place_we_cannot_find_is_asked_once_more_then_left_to_a_coordinator(sms, session) -> None:
    sms("need groceries")
    assert sms("behind the old bakery") == ["need_location_again"]
    (req,) = _requests(session)
    assert req.needs_location and req.flagged
    assert req.location_text == "behind the old bakery"
    assert sms("next to the laundromat") == ["need_no_location_stored"]
    assert _requests(session)[0].needs_location


def test_a_stale_question_never_captures_a_later_text(sms, session) -> None:
    sms("need groceries")
    session.execute(
        update(Conversation).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1))
    )
    session.commit()
    assert sms("Bed Stuy") == ["unknown"]
    assert _requests(session) == []


def test_a_repeat_need_updates_the_open_request(sms, session) -> None:
    sms("need groceries 11216")
    assert sms("need groceries urgent, also diapers") == ["need_updated"]
    (req,) = _requests(session)
    assert req.urgency is Urgency.URGENT
    assert "diapers" in req.details


def test_phone_numbers_are_removed_from_details(sms, session) -> None:
    sms("need groceries 11216 call my son 718-555-0199")
    (req,) = _requests(session)
    assert "555" not in req.details and "[number removed]" in req.details


def test_cancel_an_open_request(sms, session) -> None:
    sms("need groceries 11216")
    assert sms("no need anymore") == ["cancelled_requester"]
    assert _requests(session)[0].status is RequestStatus.CANCELLED


def test_status_of_a_request(sms, session) -> None:
    sms("NECESITO comida 11216")
    assert sms("estado") == ["status_requester"]
    assert "buscando" in last_body(session, ROSA)


def test_an_offer_in_one_text_and_in_steps(sms, session) -> None:
    assert sms("offer rides groceries 11216 5km") == ["offer_confirmed"]
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["groceries", "rides"] and offer.radius_km == 5.0
    assert sms("PAUSE") == ["paused"]
    session.expire_all()
    assert offer.paused
    assert sms("RESUME") == ["resumed"]
    session.expire_all()
    assert not offer.paused
    other = "+17185550122"
    assert sms("OFREZCO ayuda", other) == ["offer_ask_categories"]
    assert sms("1 4", other) == ["offer_ask_location"]
    assert sms("11216 8km", other) == ["offer_confirmed"]
    offer = session.scalars(select(Offer).join(Person).where(Person.phone == other)).one()
    assert offer.categories == ["groceries", "rides"] and offer.radius_km == 8.0
    assert _person(session, other).language == "es"


def test_stop_then_silence_then_start(sms, session) -> None:
    sms("need groceries 11216")
    # Twilio answers a bare STOP itself; we record the opt-out and send nothing.
    assert sms("STOP") == []
    person = _person(session)
    assert person.opted_out and person.consent_source == "sms:STOP"
    assert sms("HELP") == []
    assert sms("need groceries 11216") == []
    assert len(_requests(session)) == 1
    assert sms("START") == []
    assert not _person(session).opted_out
    assert sms("HELP") == ["help"]


def test_with_the_console_backend_we_answer_stop_and_start_ourselves(app, sms, session) -> None:
    """`make run`'s simulator has no Twilio to answer STOP and START: the service does."""
    app.config.update(SMS_BACKEND="console", ENV="development")
    assert sms("STOP") == ["stopped"]
    assert sms("START") == ["started"]


def test_spanish_opt_out_is_confirmed_by_us(sms, session) -> None:
    assert sms("BAJA") == ["stopped"]
    assert _person(session).opted_out
    assert "START" in last_body(session, ROSA)
    # Nothing more is sent, even a reply to a command.
    assert sms("estado") == []


def test_stop_releases_pending_proposals(app, sms, session) -> None:
    from mutualaid.models import MatchStatus

    volunteer = builders.person(session, phone=ROSA)
    match = builders.match(session, offer=builders.offer(session, person=volunteer))
    session.commit()
    sms("stop texting me")
    session.expire_all()
    assert match.status is MatchStatus.DECLINED


def test_the_spanish_opt_out_confirmation_is_really_sent(app, sms, session) -> None:
    from mutualaid.models import Message, MessageStatus
    from mutualaid.worker.jobs import send_outbox
    from sms.transport import FakeSender

    sms("BAJA")
    sender = FakeSender()
    while send_outbox(app, sender):
        pass
    session.expire_all()
    (confirmation,) = session.scalars(select(Message).where(Message.template == "stopped"))
    assert confirmation.status is MessageStatus.SENT
    assert [m.to for m in sender.sent] == [ROSA]


# -- the service itself, without the webhook -------------------------------------------


def _handle(session, body: str, phone: str = ROSA) -> list[str]:
    """Handle one stored text with services.conversations; the templates it queued."""
    from mutualaid.adapters import sms_context
    from mutualaid.models import Message, MessageDirection, MessageStatus
    from mutualaid.services.conversations import handle_inbound

    before = len(outbox(session, phone))
    message = Message(
        direction=MessageDirection.INBOUND, phone=phone, body=body, status=MessageStatus.RECEIVED
    )
    session.add(message)
    session.flush()
    handle_inbound(session, sms_context(), message)
    session.commit()
    return replies(session, phone)[before:]


def test_the_service_answers_a_stored_text_in_its_language(session) -> None:
    assert _handle(session, "AYUDA") == ["help"]
    assert _person(session).language == "es"


def test_the_service_pauses_and_resumes_a_volunteer_through_availability(session) -> None:
    offer = builders.offer(session, person=builders.person(session, phone=ROSA))
    session.commit()
    assert _handle(session, "PAUSE") == ["paused"]
    assert session.get(Offer, offer.id).paused
    assert _handle(session, "RESUME") == ["resumed"]
    assert not session.get(Offer, offer.id).paused


def test_after_stop_the_service_sends_nothing_until_start(session) -> None:
    assert _handle(session, "BAJA") == ["stopped"]
    person = _person(session)
    assert person.opted_out and person.consent_source == "sms:STOP"
    assert _handle(session, "HELP") == []
    assert _handle(session, "START") == []  # Twilio's own word: Twilio answers it
    assert not _person(session).opted_out
    assert _handle(session, "HELP") == ["help"]
