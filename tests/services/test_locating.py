"""A request can always be placed: asked once more with examples that work, any later text
that names a place places it, street addresses in texts are kept as the private address."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mutualaid.models import AidRequest, AuditEvent, Precision, RequestStatus
from mutualaid.services.intake import NEEDS_LOCATION, place_request
from mutualaid.services.location import Gazetteer, Location, find_street_address
from tests import builders
from tests.sms_helpers import last_body, replies, text

ROSA = "+17185550101"


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


def _request(session) -> AidRequest:
    session.expire_all()
    return session.scalars(select(AidRequest)).one()


@pytest.mark.parametrize(
    ("body", "address"),
    [
        ("I live at 350 Fulton St", "350 Fulton St"),
        ("I live at 350 Fulton St, thank you", "350 Fulton St"),
        ("350 Fulton St, Brooklyn NY 11216", "350 Fulton St, Brooklyn NY 11216"),
        ("vivo en 1073 Bedford Ave apt 2", "1073 Bedford Ave apt 2"),
        ("buzzer 4B at 12 Halsey Street apt 3", "12 Halsey Street apt 3"),
        ("need a ride to 100 Main St tomorrow", "100 Main St"),
        ("need groceries 11216", None),
        ("I need 2 bags of rice", None),
        ("call me at 5pm", None),
        ("Fulton St y Nostrand Ave", None),
        ("", None),
    ],
)
def test_street_addresses_in_free_text(body, address) -> None:
    assert find_street_address(body) == address


def test_the_issue_journey_ends_placed(sms, session) -> None:
    """necesito comida → cerca de Nostrand (not found: asked once more, in Spanish, with
    examples) → "Fulton St y Nostrand Ave" places it."""
    assert sms("necesito comida") == ["need_ask_location"]
    assert sms("cerca de Nostrand") == ["need_location_again"]
    asked = last_body(session, ROSA)
    assert "¿En qué zona vive?" in asked
    req = _request(session)
    assert req.needs_location and req.flag_reason == NEEDS_LOCATION
    assert sms("Fulton St y Nostrand Ave") == ["location_set"]
    req = _request(session)
    assert not req.needs_location and not req.flagged
    assert req.location_label == "Fulton St & Nostrand Ave"
    assert "Fulton St & Nostrand Ave" in last_body(session, ROSA)
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert "request.located" in actions and "request.unflagged" in actions


@pytest.mark.parametrize("language", ["en", "es"])
def test_every_example_we_suggest_places_the_request(app, client, session, language) -> None:
    """The examples in "where are you?" come from this network's gazetteer and all work."""
    need = "need groceries" if language == "en" else "necesito comida"
    examples = None
    for i in range(3):
        phone = f"+1718555020{i}"
        text(client, app, phone, need)
        assert replies(session, phone) == ["need_ask_location"]
        text(client, app, phone, "somewhere odd")
        assert replies(session, phone)[-1] == "need_location_again"
        body = last_body(session, phone)
        found = re.findall(r"\((?:e\.g\.|ej\.) ([^)]+)\)", body)
        assert len(found) == 3, body
        examples = examples or found
        text(client, app, phone, examples[i])
        assert replies(session, phone)[-1] == "location_set", examples[i]
    assert examples[0].isdigit() and len(examples[0]) == 5  # a real ZIP code


def test_any_later_text_that_names_a_place_places_it(sms, session) -> None:
    sms("need groceries")
    sms("behind the old bakery")
    assert sms("still no idea") == ["need_no_location_stored"]
    assert _request(session).needs_location
    # Hours later, a repeated need with a ZIP adds to the same request and places it.
    assert sms("necesito comida 11216") == ["location_set"]
    req = _request(session)
    assert req.location_precision is Precision.POSTCODE and not req.flagged
    assert sms("I live at 350 Fulton St") == ["unknown"]  # already placed: nothing to do


def test_an_address_in_a_need_is_kept_private_and_placed(sms, session) -> None:
    assert sms("need groceries, I live at 350 Fulton St 11238") == ["need_confirmed"]
    req = _request(session)
    assert req.address == "350 Fulton St 11238"
    assert req.location_precision is Precision.POSTCODE and req.location_label.startswith("11238")


def test_an_address_alone_answers_where(sms, session) -> None:
    sms("need groceries")
    assert sms("I live at 350 Fulton St") == ["need_confirmed"]
    req = _request(session)
    assert req.address == "350 Fulton St" and not req.needs_location


def test_place_request_only_for_an_open_request(session) -> None:
    req = builders.aid_request(session, lat=None, lon=None)
    spot = Location(40.68, -73.95, "Somewhere", Precision.PLACE, "place")
    assert place_request(session, req, "somewhere", spot, actor=builders.coordinator(session))
    assert (req.lat, req.location_label) == (40.68, "Somewhere")
    req.status = RequestStatus.CANCELLED
    assert not place_request(session, req, "x", spot, actor=builders.coordinator(session))


def test_gazetteer_examples_without_a_landmark_fall_back() -> None:
    from mutualaid.services.location import PlaceEntry

    g = Gazetteer([PlaceEntry("bk", "Bushwick", "neighbourhood", 40.6944, -73.9213)])
    assert g.examples() == {"place": "Bushwick", "cross": "Bushwick", "zip": "11221"}
