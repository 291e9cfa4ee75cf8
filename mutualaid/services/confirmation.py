"""Proof of the phone number before a web form counts.

A public form names a phone number anyone could type. So a form creates nothing that
acts on that person: it stores a pending submission (encrypted, expiring after
SUBMISSION_TTL_MINUTES) and texts the number "reply YES 12345 to confirm"; the page shows
the same code. Only a text from that number carrying that code turns the submission
into a request or an offer — in that person's name, audited as theirs and "confirmed by
SMS from the number". A stray YES (a proposal's, a reply to anything else) confirms
nothing: the code is five digits, a proposal's four. Until then an existing volunteer's
offer is untouched and nothing is attached to an existing requester.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import secrets
from collections.abc import Collection
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Channel, Offer, PendingSubmission, Person, Urgency
from mutualaid.services.audit import Actor, record
from mutualaid.services.intake import (
    NewOffer,
    NewRequest,
    check_offer,
    check_request,
    create_request,
    save_offer,
)
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.services.notify import SmsContext
from mutualaid.services.outbox import enqueue

CODE_DIGITS = 5
VERIFIED_BY_SMS = "confirmed by SMS from the number"
VERIFIED_TEXTED = "texted from the number"
# Confirmation texts one number can be sent per hour, however many forms name it: a
# stranger cannot use the form to flood someone's phone.
TEXTS_PER_NUMBER_PER_HOUR = 3


@dataclass(frozen=True)
class Submitted:
    """What the page tells the person who filled the form."""

    code: str
    expires_at: dt.datetime


@dataclass(frozen=True)
class Confirmed:
    """What a confirmation made: the request or the offer (one of them)."""

    request: AidRequest | None = None
    offer: Offer | None = None


def submit(
    session: Session,
    ctx: SmsContext,
    new: NewRequest | NewOffer,
    *,
    categories: Collection[str],
    ttl: dt.timedelta,
    secret: str,
) -> Submitted:
    """Store a web form's request or offer as pending and text its number the code.
    Raises InvalidInput for what intake would refuse. Flushes; the caller commits.

    The page says the same whatever happens next — the number unknown, a volunteer's,
    opted out, or sent its hourly share of confirmations — so the form reveals nothing
    about whose number it is."""
    if isinstance(new, NewRequest):
        check_request(new, categories)
        kind = "request"
    else:
        check_offer(new, categories)
        kind = "offer"
    now = ctx.now
    pending = PendingSubmission(
        kind=kind,
        phone=new.phone,
        code=_new_code(session, new.phone, now),
        language=new.language,
        payload=_payload(new),
        created_at=now,
        expires_at=now + ttl,
    )
    session.add(pending)
    session.flush()
    record(
        session,
        Actor.visitor(),
        "submission.received",
        subject_type="pending_submissions",
        subject_id=pending.id,
        kind=kind,
        verified="not yet: waiting for the number to confirm",
    )
    hourly = Limit(TEXTS_PER_NUMBER_PER_HOUR, 3600)
    if allowed(session, limit_key(secret, "confirm", new.phone), hourly, now=now):
        person = session.scalar(select(Person).where(Person.phone == new.phone))
        # The person's own language when we know them: the form's could be a stranger's.
        language = person.language if person is not None else new.language
        key = f"confirm_{kind}"
        values: dict[str, Any] = {"code": pending.code, "minutes": _minutes(ttl)}
        if "network" in ctx.catalogue.template(key).placeholders:
            values["network"] = ctx.network_name
        if kind == "request":
            values["category"] = ctx.label(new.category, language)  # type: ignore[union-attr]
        else:
            values["categories"] = ", ".join(ctx.label(c, language) for c in new.categories)  # type: ignore[union-attr]
        enqueue(
            session,
            phone=new.phone,
            body=ctx.catalogue.render(key, language, **values),
            person_id=person.id if person is not None else None,
            dedupe_key=None,  # one web post, one text (ids of deleted rows come back)
            template=key,
        )
    return Submitted(pending.code, pending.expires_at)


def confirm(session: Session, ctx: SmsContext, person: Person, code: str) -> Confirmed | None:
    """A text from ``person``'s number carrying ``code``: the submission waiting for it
    becomes their request or offer (audited as theirs, confirmed by SMS). None when no
    submission of this number waits for this code (wrong, expired or already used).
    Flushes; the caller commits."""
    if not person.phone or not code.isdigit() or len(code) != CODE_DIGITS:
        return None
    query = select(PendingSubmission).where(
        PendingSubmission.phone == person.phone,
        PendingSubmission.code == code,
        PendingSubmission.expires_at > ctx.now,
    )
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update(skip_locked=True)
    pending = session.scalars(query.limit(1)).first()
    if pending is None:
        return None
    data, kind, pending_id = dict(pending.payload), pending.kind, pending.id
    session.delete(pending)
    session.flush()
    actor = Actor.person(person.id)
    record(
        session,
        actor,
        "submission.confirmed",
        subject_type="pending_submissions",
        subject_id=pending_id,
        kind=kind,
        verified=VERIFIED_BY_SMS,
    )
    if kind == "request":
        new_request = NewRequest(
            **{**data, "phone": person.phone, "urgency": Urgency(data["urgency"])},
            channel=Channel.WEB,
        )
        req = create_request(
            session,
            new_request,
            resolver=ctx.resolver,
            categories=ctx.categories,
            actor=actor,
            verified=VERIFIED_BY_SMS,
        )
        return Confirmed(request=req)
    new_offer = NewOffer(**{**data, "phone": person.phone, "categories": tuple(data["categories"])})
    offer = save_offer(
        session,
        new_offer,
        resolver=ctx.resolver,
        categories=ctx.categories,
        actor=actor,
        verified=VERIFIED_BY_SMS,
    )
    return Confirmed(offer=offer)


def forget_expired(session: Session, *, now: dt.datetime) -> int:
    """Delete the submissions nobody confirmed in time (what was typed goes with them).
    Returns how many. Flushes; the caller commits."""
    result = session.execute(
        delete(PendingSubmission)
        .where(PendingSubmission.expires_at <= now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _payload(new: NewRequest | NewOffer) -> dict[str, Any]:
    """What was typed, minus the phone (a column of its own) and the channel."""
    data = dataclasses.asdict(new)
    data.pop("phone")
    data.pop("channel", None)
    if "urgency" in data:
        data["urgency"] = new.urgency.value  # type: ignore[union-attr]
    if "categories" in data:
        data["categories"] = list(data["categories"])
    return data


def _new_code(session: Session, phone: str, now: dt.datetime) -> str:
    """Five digits, not shared with another live submission of the same number."""
    taken = set(
        session.scalars(
            select(PendingSubmission.code).where(
                PendingSubmission.phone == phone, PendingSubmission.expires_at > now
            )
        )
    )
    while True:
        code = f"{secrets.randbelow(9 * 10 ** (CODE_DIGITS - 1)) + 10 ** (CODE_DIGITS - 1)}"
        if code not in taken:
            return code


def _minutes(ttl: dt.timedelta) -> str:
    return str(int(ttl.total_seconds() // 60))
