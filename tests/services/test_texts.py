"""Texts people read: distances rounded ("under 1 km", "about 3 km", miles where the region
uses them), a radius told as it was given, "2 miles" understood as an answer."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import Offer
from mutualaid.services import lifecycle
from tests import builders
from tests.sms_helpers import last_body, outbox, replies, text

SAM = "+17185550133"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


@pytest.mark.parametrize(
    ("region", "language", "km", "said"),
    [
        ("MX", "es", 0.0, "a menos de 1 km"),
        ("MX", "en", 0.04, "under 1 km away"),
        ("MX", "en", 2.6, "about 3 km away"),
        ("US", "en", 3.219, "about 2 miles away"),
        ("US", "en", 1.7, "about 1 mile away"),
        ("US", "es", 0.5, "a menos de 1 milla"),
        ("US", "es", 8.0, "a unas 5 millas"),
    ],
)
def test_a_proposal_rounds_its_distance(app, session, region, language, km, said) -> None:
    app.config["PHONE_REGION"] = region
    req = builders.aid_request(session)
    offer = builders.offer(session)
    offer.person.language = language
    ctx = sms_context()
    match = lifecycle.propose(
        session, ctx, req, offer, km=km, why="nearest", expires_at=ctx.now + ctx.proposal_ttl
    )
    assert match is not None
    (body,) = [m.body for m in outbox(session, offer.person.phone)]
    assert said in body and "0.0" not in body


def test_two_miles_as_an_answer_and_the_radius_told_back(app, client, session) -> None:
    app.config["PHONE_REGION"] = "US"
    text(client, app, SAM, "offer groceries")
    assert replies(session, SAM)[-1] == "offer_ask_location"
    text(client, app, SAM, "2 miles")
    assert replies(session, SAM)[-1] == "offer_ask_location"  # how far, not yet where
    text(client, app, SAM, "11216")
    assert replies(session, SAM)[-1] == "offer_confirmed"
    assert "within 2 miles of 11216" in last_body(session, SAM)
    offer = session.scalars(select(Offer)).one()
    assert offer.radius_km == pytest.approx(3.219, abs=0.001)


def test_status_of_a_closed_request_does_not_offer_cancel(app, client, session) -> None:
    text(client, app, SAM, "need groceries 11216")
    text(client, app, SAM, "CANCEL")
    text(client, app, SAM, "STATUS")
    assert replies(session, SAM)[-1] == "status_requester_closed"
    assert "CANCEL" not in last_body(session, SAM)


def test_status_of_a_paused_volunteer_says_resume(app, client, session) -> None:
    text(client, app, SAM, "offer groceries 11216 3km")
    text(client, app, SAM, "PAUSE")
    text(client, app, SAM, "STATUS")
    assert replies(session, SAM)[-1] == "status_paused"
    assert "RESUME" in last_body(session, SAM) and "OFFER" not in last_body(session, SAM)


def test_an_unnamed_volunteer_is_a_neighbour_not_a_volunteer_a_neighbour(app, session) -> None:
    req = builders.aid_request(session)
    req.requester.phone = "+17185550144"
    offer = builders.offer(session)
    offer.person.name = None
    ctx = sms_context()
    match = lifecycle.propose(
        session, ctx, req, offer, km=1.0, why="nearest", expires_at=ctx.now + ctx.proposal_ttl
    )
    lifecycle.accept(session, ctx, match, actor=builders.coordinator(session))
    (told,) = [m for m in outbox(session, "+17185550144") if m.template.startswith("accepted")]
    assert told.template == "accepted_requester_unnamed"
    assert "a neighbour is coming" in told.body and "volunteer, a neighbour" not in told.body


def test_si_and_a_code_does_not_switch_an_english_volunteer_to_spanish(app, client, session):
    text(client, app, SAM, "offer groceries 11216 3km")
    text(client, app, SAM, "si 1073")
    assert replies(session, SAM)[-1] == "nothing_pending"
    assert "nothing waiting" in last_body(session, SAM)  # still English
    text(client, app, SAM, "necesito comida 11216")
    assert replies(session, SAM)[-1] == "need_confirmed"
    assert "Gracias" in last_body(session, SAM)  # a need in Spanish: Spanish from now on


@pytest.mark.parametrize(
    ("body", "details"),
    [
        ("need groceries 11216", ""),
        ("NECESITO comida 11216 por favor", ""),
        ("need groceries 11216, milk and eggs, I use a wheelchair", "milk and eggs"),
    ],
)
def test_the_volunteer_is_not_sent_the_raw_command_as_details(app, client, session, body, details):
    from mutualaid.models import AidRequest

    text(client, app, SAM, body)
    req = session.scalars(select(AidRequest)).one()
    assert (details in req.details) if details else req.details == ""
