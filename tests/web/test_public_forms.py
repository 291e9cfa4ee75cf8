"""The public forms: valid, invalid (keeps what was typed), Spanish, without JavaScript, CSRF
— and nothing counts until the phone number the form gave confirms it by SMS."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mutualaid.models import (
    AidRequest,
    AuditEvent,
    Channel,
    Offer,
    PendingSubmission,
    Person,
    Precision,
    Urgency,
)
from tests.sms_helpers import confirm_by_sms, confirmation_code, last_body, replies, text

VALID_REQUEST = {
    "category": "groceries",
    "details": "Milk and bread",
    "location_text": "11216",
    "address": "12 Macon St, Apt 3",
    "urgency": "soon",
    "name": "Rosa",
    "phone": "(718) 555-0101",
}
VALID_OFFER = {
    "categories": ["groceries", "rides"],
    "location_text": "Bed-Stuy",
    "radius_km": "5",
    "capacity": "2",
    "availability": "Evenings",
    "name": "Sam",
    "phone": "718 555 0123",
}


@pytest.fixture
def places(runner) -> None:
    from mutualaid.cli import places_load

    assert runner.invoke(places_load, []).exit_code == 0


def test_the_request_form_creates_a_located_request_once_the_number_confirms(
    app, client, session, places
) -> None:
    response = client.post("/request", data=VALID_REQUEST)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    # Nothing acts on the person the form names yet: a pending submission and a text.
    assert session.scalars(select(AidRequest)).first() is None
    assert session.scalars(select(Person)).first() is None
    code = confirmation_code(session, "+17185550101")
    assert f"YES {code}" in page and "•01" in page and "0101" not in page
    assert replies(session, "+17185550101") == ["confirm_request"]
    received = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "submission.received")
    ).one()
    assert received.actor_type == "visitor"
    stored = session.scalars(select(PendingSubmission)).one()
    assert stored.payload["address"] == "12 Macon St, Apt 3"  # kept, encrypted, until then

    confirm_by_sms(client, app, session, "+17185550101")
    req = session.scalars(select(AidRequest)).one()
    assert req.category == "groceries" and req.urgency is Urgency.SOON
    assert req.channel is Channel.WEB and req.language == "en"
    assert req.location_precision is Precision.POSTCODE
    assert req.lat == pytest.approx(40.679, abs=0.01)
    assert req.address == "12 Macon St, Apt 3"
    assert not req.flagged
    assert req.requester.phone == "+17185550101"
    assert req.requester.name == "Rosa"
    assert replies(session, "+17185550101")[-1] == "need_confirmed"
    assert session.scalars(select(PendingSubmission)).first() is None
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.created")).one()
    assert event.subject_id == req.id and event.actor_type == "person"
    assert event.actor_id == req.requester_id
    assert event.detail["verified"] == "confirmed by SMS from the number"
    assert "555" not in str(event.detail)
    # The code works once.
    text(client, app, "+17185550101", f"YES {code}")
    assert replies(session, "+17185550101")[-1] == "confirm_unknown"
    assert len(session.scalars(select(AidRequest)).all()) == 1


def test_a_named_place_resolves_too(app, client, session, places) -> None:
    client.post("/request", data={**VALID_REQUEST, "location_text": "cerca de Fulton St"})
    confirm_by_sms(client, app, session, "+17185550101")
    req = session.scalars(select(AidRequest)).one()
    assert req.location_label == "Fulton St & Nostrand Ave"
    assert req.location_precision is Precision.PLACE


def test_an_unknown_place_is_stored_and_flagged_for_a_coordinator(
    app, client, session, places
) -> None:
    response = client.post(
        "/request", data={**VALID_REQUEST, "location_text": "behind the old bakery", "address": ""}
    )
    assert response.status_code == 303
    confirm_by_sms(client, app, session, "+17185550101")
    assert replies(session, "+17185550101")[-1] == "need_no_location_stored"
    req = session.scalars(select(AidRequest)).one()
    assert req.needs_location and req.flagged and req.flag_reason == "needs location"
    assert req.location_text == "behind the old bakery"


def _field_value(page: str, name: str) -> str | None:
    m = re.search(rf'name="{name}"[^>]*value="([^"]*)"', page) or re.search(
        rf'value="([^"]*)"[^>]*name="{name}"', page
    )
    return m.group(1) if m else None


def test_invalid_request_keeps_what_was_typed_and_announces_errors(client, session) -> None:
    response = client.post(
        "/request", data={**VALID_REQUEST, "phone": "12", "location_text": "", "category": ""}
    )
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert 'role="alert"' in page
    assert "does not look like a phone number" in page
    assert "Tell us roughly where" in page
    assert "Choose what you need" in page
    assert page.count('aria-invalid="true"') == 2  # the phone and location inputs
    assert 'aria-describedby="phone-hint phone-error"' in page
    assert _field_value(page, "phone") == "12"
    assert _field_value(page, "name") == "Rosa"
    assert "Milk and bread" in page
    assert "<title>Error:" in page
    assert session.scalars(select(AidRequest)).first() is None


@pytest.mark.parametrize("category", ["weapons", "<script>"])
def test_an_unknown_category_is_refused(client, session, category: str) -> None:
    response = client.post("/request", data={**VALID_REQUEST, "category": category})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert "Choose what you need" in page and "valid choice" not in page
    assert "<script>" not in page
    assert session.scalars(select(AidRequest)).first() is None


def test_spanish_page_and_request(app, client, session, places) -> None:
    page = client.get("/request?lang=es").get_data(as_text=True)
    assert '<html lang="es" dir="ltr">' in page
    assert "Pedir ayuda" in page and "Comestibles" in page
    client.post("/request", data=VALID_REQUEST)
    code = confirmation_code(session, "+17185550101")
    assert f"SI {code}" in client.get("/thanks").get_data(as_text=True)
    assert f"responda SI {code}" in last_body(session, "+17185550101")
    confirm_by_sms(client, app, session, "+17185550101")
    assert session.scalars(select(AidRequest)).one().language == "es"
    bad = client.post("/request", data={**VALID_REQUEST, "phone": "x"}).get_data(as_text=True)
    assert "no parece un número de teléfono" in bad


def test_language_follows_the_browser(client) -> None:
    page = client.get("/", headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    assert "Vecinos ayudando a vecinos" in page


def test_the_pages_need_no_javascript(client) -> None:
    for url in ("/", "/request", "/volunteer"):
        page = client.get(url).get_data(as_text=True)
        assert "<script" not in page
        assert 'name="viewport"' in page
    # Every input has a label.
    page = client.get("/request").get_data(as_text=True)
    inputs = re.findall(r'<(?:input|textarea|select)[^>]* id="([^"]+)"', page)
    assert {"phone", "category-0", "details", "location_text"} <= set(inputs), inputs
    for input_id in inputs:
        if input_id == "csrf_token":
            continue
        assert f'for="{input_id}"' in page or re.search(
            rf'<label class="choice">\s*<input[^>]*id="{input_id}"', page
        ), input_id


def test_volunteer_form_creates_an_offer_and_updates_it(app, client, session, places) -> None:
    assert client.post("/volunteer", data=VALID_OFFER).status_code == 303
    assert session.scalars(select(Offer)).first() is None
    confirm_by_sms(client, app, session, "+17185550123")
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["groceries", "rides"]
    assert offer.radius_km == 5.0 and offer.capacity == 2
    assert offer.location_label == "Bedford-Stuyvesant"
    assert not offer.vetted
    assert replies(session, "+17185550123")[-1] == "offer_confirmed"
    # The same phone again updates the offer rather than creating a second one — once
    # it confirms; until then the offer is as it was.
    client.post("/volunteer", data={**VALID_OFFER, "categories": ["meals"], "capacity": "1"})
    session.expire_all()
    assert session.scalars(select(Offer)).one().categories == ["groceries", "rides"]
    confirm_by_sms(client, app, session, "+17185550123")
    session.expire_all()
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["meals"] and offer.capacity == 1
    assert len(session.scalars(select(Person)).all()) == 1
    updated = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.updated")).one()
    assert (updated.actor_type, updated.actor_id) == ("person", offer.person_id)
    assert updated.detail["verified"] == "confirmed by SMS from the number"


def test_an_unconfirmed_submission_expires(app, client, session, places) -> None:
    import datetime as dt

    from mutualaid.models import utcnow
    from mutualaid.models.base import set_clock
    from mutualaid.worker import jobs

    client.post("/request", data=VALID_REQUEST)
    code = confirmation_code(session, "+17185550101")
    later = utcnow() + dt.timedelta(minutes=app.config["SUBMISSION_TTL_MINUTES"] + 1)
    set_clock(lambda: later)
    try:
        jobs.forget_conversations(app)
        assert session.scalars(select(PendingSubmission)).first() is None
        text(client, app, "+17185550101", f"YES {code}")
    finally:
        set_clock(None)
    assert session.scalars(select(AidRequest)).first() is None
    assert replies(session, "+17185550101")[-1] == "confirm_unknown"


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"categories": []}, "Choose at least one kind of help"),
        ({"capacity": "0"}, "from 1 to 10"),
        ({"capacity": "many"}, "from 1 to 10"),
        ({"radius_km": "500"}, "Please check this answer"),
        ({"categories": ["groceries", "bribes"]}, "Choose at least one kind of help"),
        ({"phone": ""}, "Enter a phone number"),
    ],
)
def test_invalid_offer(client, session, change: dict, message: str) -> None:
    response = client.post("/volunteer", data={**VALID_OFFER, **change})
    assert response.status_code == 422
    page = response.get_data(as_text=True)
    assert (
        message in page or message.replace("Please check this answer", "Not a valid choice") in page
    )
    assert session.scalars(select(Offer)).first() is None


class TestWithCSRF:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"WTF_CSRF_ENABLED": True}

    def test_a_post_without_the_token_is_refused(self, client, session) -> None:
        response = client.post("/request", data=VALID_REQUEST)
        assert response.status_code == 400
        page = response.get_data(as_text=True)
        assert "The form expired" in page
        assert _field_value(page, "name") == "Rosa"  # nothing typed is lost
        assert session.scalars(select(AidRequest)).first() is None

    def test_a_post_with_the_token_is_accepted(self, client, session, places) -> None:
        page = client.get("/request").get_data(as_text=True)
        token = _field_value(page, "csrf_token")
        assert token
        response = client.post("/request", data={**VALID_REQUEST, "csrf_token": token})
        assert response.status_code == 303
