"""Builders for test data: a person, an offer, a request, a match — with sensible defaults."""

from __future__ import annotations

import itertools

from sqlalchemy.orm import Session

from mutualaid.models import (
    AidRequest,
    Channel,
    Match,
    MatchStatus,
    Offer,
    Person,
    Precision,
    RequestStatus,
    Role,
    Urgency,
)
from mutualaid.services.audit import Actor

_seq = itertools.count(1)


def person(session: Session, **fields: object) -> Person:
    n = next(_seq)
    # 646: an area code no test writes by hand, so generated numbers never collide.
    p = Person(phone=fields.pop("phone", f"+1646555{n % 10000:04d}"), **fields)
    session.add(p)
    session.flush()
    return p


def offer(
    session: Session, *, categories: tuple[str, ...] = ("groceries",), **fields: object
) -> Offer:
    o = Offer(
        person=fields.pop("person", None) or person(session),
        lat=fields.pop("lat", 40.68),
        lon=fields.pop("lon", -73.94),
        location_precision=Precision.EXACT,
        radius_km=fields.pop("radius_km", 5.0),
        capacity=fields.pop("capacity", 1),
        **fields,
    )
    o.categories = list(categories)
    session.add(o)
    session.flush()
    return o


def aid_request(session: Session, **fields: object) -> AidRequest:
    n = next(_seq)
    r = AidRequest(
        ref=fields.pop("ref", f"T{n:05d}"),
        requester=fields.pop("requester", None) or person(session),
        category=fields.pop("category", "groceries"),
        urgency=fields.pop("urgency", Urgency.NORMAL),
        status=fields.pop("status", RequestStatus.OPEN),
        channel=fields.pop("channel", Channel.WEB),
        lat=fields.pop("lat", 40.68),
        lon=fields.pop("lon", -73.95),
        location_precision=fields.pop("location_precision", Precision.EXACT),
        **fields,
    )
    session.add(r)
    session.flush()
    return r


def match(session: Session, *, request: AidRequest | None = None, **fields: object) -> Match:
    m = Match(
        request=request or aid_request(session),
        offer=fields.pop("offer", None) or offer(session),
        status=fields.pop("status", MatchStatus.PROPOSED),
        code=fields.pop("code", f"{next(_seq) % 10000:04d}"),
        **fields,
    )
    session.add(m)
    session.flush()
    return m


def coordinator(session: Session, **fields: object) -> Actor:
    """A coordinator's account, as the actor of what they do."""
    from mutualaid.services.accounts import create_account

    n = next(_seq)
    account = create_account(
        session,
        str(fields.pop("email", f"coordinator{n}@example.org")),
        "a long enough password",
        fields.pop("role", Role.COORDINATOR),  # type: ignore[arg-type]
    )
    return Actor.coordinator(account.id)
