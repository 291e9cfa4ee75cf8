"""A demo network in a demo city, for trying the service out and for training organisers."""

from __future__ import annotations

import datetime as dt
import math
import random
import secrets
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mutualaid.models import (
    Account,
    AidRequest,
    Channel,
    Match,
    MatchStatus,
    Offer,
    Person,
    RequestStatus,
    Role,
    Urgency,
    utcnow,
)
from mutualaid.services import availability
from mutualaid.services.accounts import create_account
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import Category
from mutualaid.services.intake import (
    NewOffer,
    NewRequest,
    create_request,
    save_offer,
)
from mutualaid.services.location import Gazetteer, PlaceEntry, Resolver, load_places
from mutualaid.services.transitions import change_match_status, change_request_status

ADMIN_EMAIL = "organiser@demo.example.org"
FIRST_NAMES = [
    "Ana",
    "Ben",
    "Carmen",
    "Dev",
    "Elena",
    "Farah",
    "Gus",
    "Hana",
    "Ike",
    "Jo",
    "Kemal",
    "Lucia",
    "Marcus",
    "Nia",
    "Omar",
    "Pilar",
    "Quinn",
    "Rosa",
    "Sam",
    "Tariq",
    "Uma",
    "Vic",
    "Wen",
    "Ximena",
    "Yusuf",
    "Zoe",
    "Ade",
    "Bea",
    "Chen",
    "Dara",
    "Eli",
    "Fatou",
    "Gabe",
    "Hector",
    "Ines",
    "Jamal",
    "Kira",
    "Luis",
    "Mei",
    "Nadia",
]
DETAILS = {
    "groceries": [
        "Milk, bread, eggs and rice",
        "Weekly shop, list ready",
        "Baby formula and diapers",
    ],
    "meals": ["A hot dinner for two", "Soft food, no pork", "Meals for the week after surgery"],
    "pharmacy": ["Prescription ready at the pharmacy on Fulton", "Insulin pickup", "Refill pickup"],
    "rides": ["Ride to a clinic appointment", "Ride to the food bank and back"],
    "childcare": ["Two hours on Thursday afternoon", "School pickup, 3pm"],
    "checkin": ["A phone call to check in, I live alone", "Visit for a chat"],
    "errands": ["Post a package", "Laundry drop-off"],
    "household": ["Help moving a bed", "Fix a leaking tap"],
}


@dataclass(frozen=True)
class DemoSummary:
    volunteers: int
    requests: int
    admin_email: str
    admin_password: str


def database_is_empty(session: Session) -> bool:
    return not any(
        session.scalar(select(func.count()).select_from(model)) for model in (Person, Account)
    )


def _phone(area: str, i: int) -> str:
    # 555-01xx numbers are valid but reserved for fiction: safe to use in a demo.
    return f"+1{area}55501{i:02d}"


def _near(rng: random.Random, place: PlaceEntry, km: float) -> str:
    """A point within ``km`` of the place, as "lat,lon" text (what a person might send)."""
    r, theta = km * math.sqrt(rng.random()), rng.random() * 2 * math.pi
    lat = place.lat + (r * math.cos(theta)) / 111.0
    lon = place.lon + (r * math.sin(theta)) / (111.0 * math.cos(math.radians(place.lat)))
    return f"{lat:.5f},{lon:.5f}"


def seed_demo_network(
    session: Session,
    places: Sequence[PlaceEntry],
    *,
    categories: Mapping[str, Category],
    seed: int = 7,
    volunteers: int = 60,
    requests: int = 40,
) -> DemoSummary:
    """Seed places, an admin account, volunteers, and requests in every state."""
    rng = random.Random(seed)
    load_places(session, places)
    resolver = Resolver(Gazetteer(places))
    neighbourhoods = [p for p in places if p.kind == "neighbourhood"][:20]
    keys = list(categories)
    password = secrets.token_urlsafe(12)
    create_account(session, ADMIN_EMAIL, password, Role.ADMIN)

    offers: list[Offer] = []
    for i in range(volunteers):
        area = "718" if i < 50 else "347"
        offer = save_offer(
            session,
            NewOffer(
                phone=_phone(area, i % 50),
                categories=tuple(rng.sample(keys, rng.randint(1, 3))),
                location_text=_near(rng, rng.choice(neighbourhoods), 1.0),
                radius_km=rng.choice([2.0, 3.0, 5.0, 8.0]),
                capacity=rng.choice([1, 1, 2, 3]),
                availability=rng.choice(["Weekday evenings", "Weekends", "Mornings", "Anytime"]),
                name=FIRST_NAMES[i % len(FIRST_NAMES)],
                language="es" if i % 4 == 0 else "en",
            ),
            resolver=resolver,
            categories=keys,
        )
        offer.vetted = rng.random() < 0.6
        if i % 17 == 16:  # a few volunteers took a break
            availability.set_paused(session, offer, True, actor=Actor.person(offer.person_id))
        if offer.vetted:
            offer.vetted_at = utcnow()
        offers.append(offer)

    # Requests in every state, created over the last three days.
    plan = (
        [RequestStatus.OPEN] * 18
        + [MatchStatus.PROPOSED] * 6
        + [RequestStatus.MATCHED] * 6
        + [RequestStatus.COMPLETED] * 6
        + [RequestStatus.CANCELLED] * 4
    )[:requests]
    now = utcnow()
    system = Actor.system()
    load: Counter[int] = Counter()
    for i, target in enumerate(plan):
        category = rng.choice(keys)
        unresolved = i in (3, 11)
        req = create_request(
            session,
            NewRequest(
                phone=_phone("929", i),
                category=category,
                location_text="behind the old bakery"
                if unresolved
                else rng.choice(
                    [_near(rng, rng.choice(neighbourhoods), 0.8), rng.choice(neighbourhoods).name]
                ),
                urgency=rng.choice([Urgency.NORMAL, Urgency.NORMAL, Urgency.SOON, Urgency.URGENT]),
                details=rng.choice(DETAILS.get(category, ["Help needed"])),
                name=FIRST_NAMES[(i + 7) % len(FIRST_NAMES)],
                language="es" if i % 3 == 0 else "en",
                channel=Channel.SMS if i % 2 else Channel.WEB,
            ),
            resolver=resolver,
            categories=keys,
        )
        req.created_at = now - dt.timedelta(hours=rng.uniform(0.5, 72))
        if target is RequestStatus.OPEN or req.needs_location:
            continue
        helper = _nearest_offer(req, offers, load)
        if helper is None:
            continue
        if target is not RequestStatus.COMPLETED:
            load[helper.id] += 1
        match = Match(
            request=req,
            offer=helper,
            code=f"{rng.randint(1000, 9999)}",
            km=round(_km(req, helper), 2),
            why="demo",
            expires_at=now + dt.timedelta(minutes=rng.randint(10, 120)),
        )
        session.add(match)
        session.flush()
        record(
            session,
            system,
            "match.proposed",
            subject_type="matches",
            subject_id=match.id,
            to_state=MatchStatus.PROPOSED.value,
        )
        if target is MatchStatus.PROPOSED:
            continue
        if target is RequestStatus.CANCELLED:
            change_match_status(session, match, MatchStatus.WITHDRAWN, actor=system)
            change_request_status(
                session,
                req,
                RequestStatus.CANCELLED,
                actor=Actor.person(req.requester_id),
                reason="no longer needed",
            )
            continue
        volunteer = Actor.person(helper.person_id)
        change_match_status(session, match, MatchStatus.ACCEPTED, actor=volunteer)
        change_request_status(session, req, RequestStatus.MATCHED, actor=volunteer)
        if target is RequestStatus.COMPLETED:
            change_match_status(session, match, MatchStatus.COMPLETED, actor=volunteer)
            change_request_status(session, req, RequestStatus.COMPLETED, actor=volunteer)
    session.flush()
    return DemoSummary(len(offers), len(plan), ADMIN_EMAIL, password)


def _km(req: AidRequest, offer: Offer) -> float:
    from geopy.distance import great_circle

    return great_circle((req.lat, req.lon), (offer.lat, offer.lon)).km


def _nearest_offer(req: AidRequest, offers: Sequence[Offer], load: Counter[int]) -> Offer | None:
    able = [
        o
        for o in offers
        if req.category in o.categories and o.lat is not None and load[o.id] < o.capacity
    ]
    return min(able, key=lambda o: (_km(req, o), o.id)) if able else None
