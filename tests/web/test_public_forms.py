"""The public forms: valid, invalid (keeps what was typed), Spanish, without JavaScript, CSRF."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from mutualaid.models import AidRequest, AuditEvent, Channel, Offer, Person, Precision, Urgency

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


def test_the_request_form_creates_a_located_request(client, session, places) -> None:
    response = client.post("/request", data=VALID_REQUEST)
    assert response.status_code == 303
    page = client.get(response.headers["Location"]).get_data(as_text=True)
    req = session.scalars(select(AidRequest)).one()
    assert req.ref in page
    assert req.category == "groceries" and req.urgency is Urgency.SOON
    assert req.channel is Channel.WEB and req.language == "en"
    assert req.location_precision is Precision.POSTCODE
    assert req.lat == pytest.approx(40.679, abs=0.01)
    assert req.address == "12 Macon St, Apt 3"
    assert not req.flagged
    assert req.requester.phone == "+17185550101"
    assert req.requester.name == "Rosa"
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.created")).one()
    assert event.subject_id == req.id and event.actor_type == "person"
    assert "555" not in str(event.detail)


def test_a_named_place_resolves_too(client, session, places) -> None:
    client.post("/request", data={**VALID_REQUEST, "location_text": "cerca de Fulton St"})
    req = session.scalars(select(AidRequest)).one()
    assert req.location_label == "Fulton St & Nostrand Ave"
    assert req.location_precision is Precision.PLACE


def test_an_unknown_place_is_stored_and_flagged_for_a_coordinator(client, session, places) -> None:
    response = client.post(
        "/request", data={**VALID_REQUEST, "location_text": "behind the old bakery", "address": ""}
    )
    assert response.status_code == 303
    page = client.get("/thanks").get_data(as_text=True)
    assert "organiser will contact you" in page
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


def test_spanish_page_and_request(client, session, places) -> None:
    page = client.get("/request?lang=es").get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Pedir ayuda" in page and "Comestibles" in page
    client.post("/request", data=VALID_REQUEST)
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


def test_volunteer_form_creates_an_offer_and_updates_it(client, session, places) -> None:
    assert client.post("/volunteer", data=VALID_OFFER).status_code == 303
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["groceries", "rides"]
    assert offer.radius_km == 5.0 and offer.capacity == 2
    assert offer.location_label == "Bedford-Stuyvesant"
    assert not offer.vetted
    # The same phone again updates the offer rather than creating a second one.
    client.post("/volunteer", data={**VALID_OFFER, "categories": ["meals"], "capacity": "1"})
    session.expire_all()
    offer = session.scalars(select(Offer)).one()
    assert offer.categories == ["meals"] and offer.capacity == 1
    assert len(session.scalars(select(Person)).all()) == 1


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
