"""Coordinators' notes on a request: added with their author, listed newest first, audited
without their text (a note may hold personal data; retention erases it with the request's)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Account, AidRequest, RequestNote
from mutualaid.services.audit import Actor, record
from mutualaid.services.errors import Refused

MAX_NOTE = 2000
LIST_LIMIT = 100


@dataclass(frozen=True)
class NoteView:
    id: int
    body: str
    created_at: dt.datetime
    author: str | None  # the account's email; None once the account is deleted


def clean(body: str) -> str:
    """The note as it will be kept: control characters (and NUL, which PostgreSQL refuses)
    removed, line breaks kept, trimmed. Raises ValueError when nothing is left or it is
    longer than MAX_NOTE characters (a Refused)."""
    text = "".join(ch for ch in body if ch == "\n" or ch.isprintable()).strip()
    if not text:
        raise Refused("empty_note", "an empty note")
    if len(text) > MAX_NOTE:
        raise Refused("note_too_long", f"a note is at most {MAX_NOTE} characters", max=MAX_NOTE)
    return text


def add_note(
    session: Session, req: AidRequest, body: str, *, actor: Actor, now: dt.datetime
) -> RequestNote:
    """A coordinator's note on ``req``. The audit event names the note, never its text.
    Raises ValueError for an empty or overlong note, or an author who is not an account."""
    if actor.type != "coordinator" or actor.id is None:
        raise Refused("not_a_coordinator", "only a coordinator's account can write a note")
    note = RequestNote(request_id=req.id, author_id=actor.id, body=clean(body), created_at=now)
    session.add(note)
    session.flush()
    record(
        session,
        actor,
        "request.noted",
        subject_type="aid_requests",
        subject_id=req.id,
        note_id=note.id,
    )
    return note


def notes_on(session: Session, request_id: int, *, limit: int = LIST_LIMIT) -> list[NoteView]:
    """The notes on one request, newest first, with their authors (one query)."""
    rows = session.execute(
        select(RequestNote.id, RequestNote.body, RequestNote.created_at, Account.email)
        .outerjoin(Account, Account.id == RequestNote.author_id)
        .where(RequestNote.request_id == request_id)
        .order_by(RequestNote.created_at.desc(), RequestNote.id.desc())
        .limit(limit)
    )
    return [NoteView(*row) for row in rows]
