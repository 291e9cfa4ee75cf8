"""Searching the SMS log for coordinators: by words in a text (inbound and outbound) and by
phone number, newest first, a page at a time.

Phone numbers and bodies are encrypted at rest (deterministically), so SQL can only test a
phone number for equality and cannot look inside a body: a phone search is one indexed
equality on the E.164 value, and words are matched here, on the decrypted bodies, reading
the log newest first in batches — at most ``scan_limit`` texts per page, after which the
page offers to go on where it stopped.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Message, Offer, Person
from mutualaid.services.audit import Actor, record

PAGE_SIZE = 50
SCAN_BATCH = 2000
SCAN_LIMIT = 10_000  # texts read per page: ~150 ms with 50,000 texts on PostgreSQL
MAX_WORDS = 100


@dataclass(frozen=True)
class MessageQuery:
    words: str = ""  # as typed (trimmed)
    phone: str = ""  # E.164, already normalised
    before: int | None = None  # continue below this message id (the next page)


@dataclass
class Hit:
    message: Message
    request_id: int | None  # the message's request, else the person's latest request
    request_ref: str | None
    offer_id: int | None  # the person's volunteer offer, if they volunteer


@dataclass
class Results:
    hits: list[Hit]
    next_before: int | None  # where the next page starts; None: nothing further
    scanned: int  # texts read to find words (0 for a phone-only search)
    stopped_early: bool  # the scan limit was reached before a full page was found


def fold(text: str) -> str:
    """Lower case without accents, so "Medicína" finds "medicina"."""
    if text.isascii():
        return text.casefold()  # the common case, twenty times cheaper
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()


def search(
    session: Session,
    query: MessageQuery,
    *,
    page_size: int = PAGE_SIZE,
    scan_limit: int = SCAN_LIMIT,
    batch: int = SCAN_BATCH,
) -> Results:
    """One page of messages matching ``query``, newest first."""
    where = []
    if query.phone:
        person = select(Person.id).where(Person.phone == query.phone).scalar_subquery()
        where.append(or_(Message.phone == query.phone, Message.person_id == person))

    def below(cursor: int | None) -> tuple:
        return (Message.id < cursor,) if cursor is not None else ()

    if not query.words:
        ids = list(
            session.scalars(
                select(Message.id)
                .where(*where, *below(query.before))
                .order_by(Message.id.desc())
                .limit(page_size + 1)
            )
        )
        more = len(ids) > page_size
        ids = ids[:page_size]
        return Results(_hits(session, ids), ids[-1] if more else None, 0, False)
    needle = fold(query.words)
    found: list[int] = []
    scanned, cursor, exhausted = 0, query.before, False
    while len(found) <= page_size and scanned < scan_limit:
        size = min(batch, scan_limit - scanned)
        rows = session.execute(
            select(Message.id, Message.body)
            .where(*where, *below(cursor))
            .order_by(Message.id.desc())
            .limit(size)
        ).all()
        for message_id, body in rows:
            scanned += 1
            cursor = message_id
            if body and needle in fold(body):
                found.append(message_id)
                if len(found) > page_size:
                    break
        if len(rows) < size:
            exhausted = True
            break
    if len(found) > page_size:
        found = found[:page_size]
        return Results(_hits(session, found), found[-1], scanned, False)
    stopped = not exhausted and scanned >= scan_limit
    return Results(_hits(session, found), cursor if stopped else None, scanned, stopped)


def _hits(session: Session, ids: list[int]) -> list[Hit]:
    """The messages of ``ids`` (in that order), each with where to look next: its request
    or its person's latest, and the person's volunteer page. A fixed number of queries."""
    if not ids:
        return []
    messages = {m.id: m for m in session.scalars(select(Message).where(Message.id.in_(ids)))}
    people = {m.person_id for m in messages.values() if m.person_id is not None}
    offers = dict(
        session.execute(select(Offer.person_id, Offer.id).where(Offer.person_id.in_(people))).all()
    )
    latest = dict(
        session.execute(
            select(AidRequest.requester_id, func.max(AidRequest.id))
            .where(AidRequest.requester_id.in_(people))
            .group_by(AidRequest.requester_id)
        ).all()
    )
    request_of = {m.id: m.request_id or latest.get(m.person_id) for m in messages.values()}
    refs = dict(
        session.execute(
            select(AidRequest.id, AidRequest.ref).where(
                AidRequest.id.in_({r for r in request_of.values() if r is not None})
            )
        ).all()
    )
    return [
        Hit(
            messages[i],
            request_of[i],
            refs.get(request_of[i]) if request_of[i] is not None else None,
            offers.get(messages[i].person_id),
        )
        for i in ids
    ]


def audit_search(
    session: Session, actor: Actor, query: MessageQuery, results: Results, *, revealed: bool
) -> None:
    """Record that ``actor`` searched the SMS log: how (words, a phone number, a further
    page, revealed), whose number it was when it is a person's, and how many texts were
    found — never the words or the number looked for (the audit log is read more widely
    than the texts)."""
    person_id = (
        session.scalar(select(Person.id).where(Person.phone == query.phone))
        if query.phone
        else None
    )
    record(
        session,
        actor,
        "messages.searched",
        subject_type="people" if person_id is not None else "messages",
        subject_id=person_id,
        by_words=bool(query.words),
        by_phone=bool(query.phone),
        further_page=query.before is not None,
        found=len(results.hits),
        revealed=revealed,
    )
