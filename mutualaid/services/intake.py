"""Intake: a need or an offer arrives (web form, SMS, coordinator) and becomes a record.

The same functions serve every channel, so a request texted in and one typed in a form
are stored alike.
"""

from __future__ import annotations

import secrets
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Channel, Offer, Person, Precision, RequestStatus, Urgency
from mutualaid.services import flags
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import number_words
from mutualaid.services.location import Location, Resolver, shown_label
from sms.phones import without_numbers

# No 0/O, 1/I/L, 5/S: references are read aloud over the phone.
REF_ALPHABET = "ABCDEFGHJKMNPQRTUVWXYZ2346789"
REF_LENGTH = 6
NEEDS_LOCATION = "needs location"

MAX_RADIUS_KM = 50.0
MAX_CAPACITY = 10


class InvalidInput(ValueError):
    """Input a person must correct; ``field`` names it."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field


@dataclass(frozen=True)
class NewRequest:
    phone: str  # E.164, already normalised
    category: str
    location_text: str
    urgency: Urgency = Urgency.NORMAL
    details: str = ""
    address: str = ""
    name: str = ""
    language: str = "en"
    channel: Channel = Channel.WEB


@dataclass(frozen=True)
class NewOffer:
    phone: str  # E.164, already normalised
    categories: tuple[str, ...]
    location_text: str
    radius_km: float = 3.0
    capacity: int = 1
    availability: str = ""
    name: str = ""
    language: str = "en"


def new_ref() -> str:
    return "".join(secrets.choice(REF_ALPHABET) for _ in range(REF_LENGTH))


_NAME_EDGES = " \t,.;:-_|/\\()[]{}#*+=@"


def clean_name(name: str) -> str:
    """A name as we keep it: no numbers (one typed there would reach the volunteer and
    head every relayed text), printable, at most 80 characters.

    >>> clean_name("Rosa  (347) 555-0142")
    'Rosa'
    """
    kept = "".join(ch for ch in name if ch.isprintable())
    words = without_numbers(kept, words=number_words()).split()
    cleaned = " ".join(w for w in (w.strip(_NAME_EDGES) for w in words) if w)
    return cleaned[:80]


def find_or_create_person(
    session: Session, phone: str, *, name: str = "", language: str | None = None
) -> Person:
    """The person with this phone number, created if new (safe against a concurrent twin).
    ``language``, when given, is the one they just used (a form's, a keyword's)."""
    name = clean_name(name)
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is None:
        try:
            with session.begin_nested():
                person = Person(phone=phone, name=name or None, language=language or "en")
                session.add(person)
        except IntegrityError:
            # Someone created the same person between our SELECT and INSERT.
            person = session.scalars(select(Person).where(Person.phone == phone)).one()
    if name and not person.name:
        person.name = name
    if language:
        person.language = language
    return person


def _apply_location(target: AidRequest | Offer, text: str, found: Location | None) -> None:
    target.location_text = text
    if found is None:
        target.lat = target.lon = target.location_label = None
        target.location_precision = Precision.NONE
    else:
        target.lat, target.lon = found.lat, found.lon
        target.location_label = shown_label(found)
        target.location_precision = found.precision


def create_request(
    session: Session,
    new: NewRequest,
    *,
    resolver: Resolver,
    categories: Collection[str],
    actor: Actor | None = None,
    verified: str | None = None,
) -> AidRequest:
    """Store a new open request. An unresolved location still stores it, flagged
    "needs location" for a coordinator. ``verified`` says in the audit log how the
    phone number was proven ("texted from the number" …). Flushes; the caller commits."""
    check_request(new, categories)
    person = find_or_create_person(session, new.phone, name=new.name, language=new.language)
    address = new.address.strip()
    found = resolver.resolve_address(address) or resolver.resolve(new.location_text)
    req = AidRequest(
        ref=_unused_ref(session),
        requester=person,
        category=new.category,
        details=new.details.strip(),
        urgency=new.urgency,
        status=RequestStatus.OPEN,
        channel=new.channel,
        language=new.language,
        address=address or None,
    )
    _apply_location(req, new.location_text.strip(), found)
    session.add(req)
    session.flush()
    record(
        session,
        actor or Actor.person(person.id),
        "request.created",
        subject_type="aid_requests",
        subject_id=req.id,
        to_state=req.status.value,
        channel=new.channel.value,
        category=new.category,
        precision=req.location_precision.value,
        **({"verified": verified} if verified else {}),
    )
    if found is None:
        flags.flag(session, req, NEEDS_LOCATION, actor=Actor.system())
    return req


def check_request(new: NewRequest, categories: Collection[str]) -> None:
    """Raise InvalidInput for what create_request would refuse."""
    if new.category not in categories:
        raise InvalidInput("category", f"unknown category {new.category!r}")


def check_offer(new: NewOffer, categories: Collection[str]) -> None:
    """Raise InvalidInput for what save_offer would refuse."""
    unknown = [c for c in new.categories if c not in categories]
    if not new.categories or unknown:
        raise InvalidInput("categories", f"unknown or missing categories {unknown}")
    if not 0 < new.radius_km <= MAX_RADIUS_KM:
        raise InvalidInput("radius_km", f"must be between 0 and {MAX_RADIUS_KM:g} km")
    if not 1 <= new.capacity <= MAX_CAPACITY:
        raise InvalidInput("capacity", f"must be between 1 and {MAX_CAPACITY}")


def place_request(
    session: Session,
    req: AidRequest,
    text: str,
    found: Location,
    *,
    actor: Actor,
    address: str | None = None,
) -> bool:
    """Give an open request the place ``found`` for what was typed (``text``), and the
    street address if one was given; its "needs location" flag is cleared, and the next
    matching run sees it (its updated_at changed). False when the request is no longer
    open (nothing changed)."""
    if req.status is not RequestStatus.OPEN:
        return False
    before = req.location_precision
    _apply_location(req, text.strip()[:200], found)
    if address:
        req.address = address.strip()[:200]
    record(
        session,
        actor,
        "request.located",
        subject_type="aid_requests",
        subject_id=req.id,
        precision=req.location_precision.value,
        was=before.value,
        source=found.source,
        address_given=bool(address),
    )
    flags.unflag(session, req, NEEDS_LOCATION, actor=Actor.system())
    return True


def _unused_ref(session: Session) -> str:
    while True:
        ref = new_ref()
        if session.scalar(select(AidRequest.id).where(AidRequest.ref == ref)) is None:
            return ref


def save_offer(
    session: Session,
    new: NewOffer,
    *,
    resolver: Resolver,
    categories: Collection[str],
    actor: Actor | None = None,
    verified: str | None = None,
) -> Offer:
    """Create the person's offer, or update it in place if they already have one.
    ``verified`` says in the audit log how the phone number was proven."""
    check_offer(new, categories)
    person = find_or_create_person(session, new.phone, name=new.name, language=new.language)
    offer = session.scalar(select(Offer).where(Offer.person_id == person.id))
    created = offer is None
    if offer is None:
        offer = Offer(person=person)
        session.add(offer)
    offer.categories = list(new.categories)
    offer.radius_km = new.radius_km
    offer.capacity = new.capacity
    offer.availability = new.availability.strip()
    _apply_location(offer, new.location_text.strip(), resolver.resolve(new.location_text))
    session.flush()
    record(
        session,
        actor or Actor.person(person.id),
        "offer.created" if created else "offer.updated",
        subject_type="offers",
        subject_id=offer.id,
        categories=sorted(new.categories),
        radius_km=new.radius_km,
        capacity=new.capacity,
        precision=offer.location_precision.value,
        **({"verified": verified} if verified else {}),
    )
    return offer
