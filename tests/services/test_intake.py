"""Intake: a new request or offer from a form or a text, its person found or created by
phone number, its place resolved or flagged for a coordinator."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from mutualaid.models import AidRequest, AuditEvent, Person, RequestStatus
from mutualaid.services.intake import (
    NEEDS_LOCATION,
    InvalidInput,
    NewOffer,
    NewRequest,
    create_request,
    find_or_create_person,
    save_offer,
)
from mutualaid.services.location import Gazetteer, Resolver

CATEGORIES = ["groceries", "rides"]
PHONE = "+17185550123"


@pytest.fixture
def resolver(session) -> Resolver:
    return Resolver(Gazetteer([]))


def test_a_located_request_is_open_and_not_flagged(session, resolver) -> None:
    req = create_request(
        session,
        NewRequest(phone=PHONE, category="groceries", location_text="40.68,-73.95"),
        resolver=resolver,
        categories=CATEGORIES,
    )
    assert req.status is RequestStatus.OPEN and not req.flagged
    assert (round(req.lat, 2), round(req.lon, 2)) == (40.68, -73.95)
    assert req.requester.phone == PHONE


def test_a_request_without_a_place_is_stored_and_flagged(session, resolver) -> None:
    req = create_request(
        session,
        NewRequest(phone=PHONE, category="groceries", location_text="somewhere nice"),
        resolver=resolver,
        categories=CATEGORIES,
    )
    assert req.needs_location and req.flagged and req.flag_reason == NEEDS_LOCATION
    flagged = session.scalars(
        select(AuditEvent).where(AuditEvent.action == "request.flagged")
    ).one()
    assert (flagged.actor_type, flagged.subject_id) == ("system", req.id)


def test_an_unknown_category_is_refused_and_nothing_is_stored(session, resolver) -> None:
    with pytest.raises(InvalidInput) as refused:
        create_request(
            session,
            NewRequest(phone=PHONE, category="yachts", location_text="40.68,-73.95"),
            resolver=resolver,
            categories=CATEGORIES,
        )
    assert refused.value.field == "category"
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_one_person_per_phone_and_their_latest_language(session) -> None:
    first = find_or_create_person(session, PHONE, name="Rosa", language="es")
    again = find_or_create_person(session, PHONE, name="Someone else", language="en")
    assert again is first and first.name == "Rosa" and first.language == "en"


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"categories": ()}, "categories"),
        ({"categories": ("yachts",)}, "categories"),
        ({"radius_km": 0}, "radius_km"),
        ({"capacity": 0}, "capacity"),
    ],
)
def test_an_offer_out_of_bounds_is_refused(session, resolver, change, field) -> None:
    new = {"phone": PHONE, "categories": ("rides",), "location_text": "40.68,-73.95", **change}
    with pytest.raises(InvalidInput) as refused:
        save_offer(session, NewOffer(**new), resolver=resolver, categories=CATEGORIES)
    assert refused.value.field == field


def test_a_second_offer_updates_the_first(session, resolver) -> None:
    new = NewOffer(phone=PHONE, categories=("rides",), location_text="40.68,-73.95")
    first = save_offer(session, new, resolver=resolver, categories=CATEGORIES)
    again = save_offer(
        session,
        NewOffer(phone=PHONE, categories=("groceries", "rides"), location_text="40.69,-73.95"),
        resolver=resolver,
        categories=CATEGORIES,
    )
    assert again is first and sorted(first.categories) == ["groceries", "rides"]
    actions = session.scalars(select(AuditEvent.action).order_by(AuditEvent.id)).all()
    assert actions == ["offer.created", "offer.updated"]
    assert session.scalar(select(func.count()).select_from(AidRequest)) == 0
