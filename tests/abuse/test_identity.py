"""Item 1: nobody can act in another person's name from the web. A phone number typed
into a form counts only once that phone has answered."""

from __future__ import annotations

from sqlalchemy import select

from mutualaid.models import AidRequest, AuditEvent, Offer, Person
from tests.abuse.helpers import (
    MALLORY,
    ROSA,
    VERA,
    accepted_task,
    bodies_to,
    confirm_own_number,
    match_now,
    templates_to,
    volunteer,
)
from tests.sms_helpers import text


def test_a_stranger_cannot_rewrite_a_volunteers_offer_from_the_web_form(
    app, client, session
) -> None:
    vera = volunteer(session, VERA, capacity=1)
    session.commit()
    before = (vera.categories, vera.location_text, vera.capacity, vera.person.language)

    # Mallory knows Vera's number and fills the volunteer form with it, in Spanish.
    response = client.post(
        "/volunteer?lang=es",
        data={
            "categories": ["rides"],
            "location_text": "90210",
            "radius_km": "15",
            "capacity": "10",
            "name": "Vera",
            "phone": "(718) 555-0111",
        },
    )
    assert response.status_code < 500

    session.expire_all()
    offer = session.scalars(select(Offer).where(Offer.person_id == vera.person_id)).one()
    assert (offer.categories, offer.location_text, offer.capacity, offer.person.language) == (
        before
    )
    credited = session.scalars(
        select(AuditEvent).where(
            AuditEvent.action.in_(("offer.updated", "offer.created")),
            AuditEvent.actor_type == "person",
            AuditEvent.actor_id == vera.person_id,
        )
    ).all()
    assert credited == []  # nothing in the audit log says Vera did this
    assert "offer_confirmed" not in templates_to(session, VERA)
    # Vera is asked instead, in her own language (not the form's), and can ignore it.
    assert templates_to(session, VERA) == ["confirm_offer"]
    assert "YES" in bodies_to(session, VERA)[-1]
    # Answering anything else — even a bare YES — confirms nothing.
    text(client, app, VERA, "YES")
    session.expire_all()
    assert (
        session.scalars(select(Offer.capacity).where(Offer.person_id == vera.person_id)).one() == 1
    )


def test_a_stranger_cannot_file_a_request_in_someone_elses_name_and_take_over_her_texts(
    app, client, session
) -> None:
    """The whole attack of the issue: a request in Rosa's name far away, taken by the
    attacker as a volunteer, so that Rosa's next text ("I am home now at …, door code …")
    goes to the attacker instead of her real volunteer."""
    vera = volunteer(session, VERA)
    rosa_task = accepted_task(session, ROSA, vera)
    session.commit()

    # 1. A request in Rosa's name, 4,000 km away.
    client.post(
        "/request",
        data={
            "category": "groceries",
            "location_text": "90210",
            "urgency": "urgent",
            "name": "Rosa",
            "phone": "718 555 0101",
        },
    )
    # 2. Mallory volunteers there with her own number (and confirms it: it is hers).
    client.post(
        "/volunteer",
        data={
            "categories": ["groceries"],
            "location_text": "90210",
            "radius_km": "15",
            "capacity": "1",
            "name": "Mal",
            "phone": "347 555 0199",
        },
    )
    confirm_own_number(client, app, session, MALLORY)
    # 3. Matching proposes whatever it can; Mallory says YES.
    match_now(app)
    text(client, app, MALLORY, "YES")
    # 4. Rosa texts her volunteer, as she has been doing.
    text(client, app, ROSA, "I am home now at 12 Canon Dr, door code 4417")

    to_mallory = " ".join(bodies_to(session, MALLORY))
    assert "Canon" not in to_mallory and "4417" not in to_mallory
    assert any("4417" in body for body in bodies_to(session, VERA))
    # Mallory's own offer counts: her number confirmed it, and the audit log says so.
    mallorys = session.scalars(select(AuditEvent).where(AuditEvent.action == "offer.created")).one()
    assert mallorys.actor_type == "person"
    assert mallorys.detail["verified"] == "confirmed by SMS from the number"
    # Rosa's requests are hers alone: nothing was attached to her unconfirmed.
    session.expire_all()
    rosa = session.scalar(select(Person).where(Person.phone == ROSA))
    assert session.scalars(
        select(AidRequest.id).where(AidRequest.requester_id == rosa.id)
    ).all() == [rosa_task.request_id]
