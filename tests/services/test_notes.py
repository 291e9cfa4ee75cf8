"""Coordinators' notes: kept clean and bounded, listed newest first with their author,
audited without their text."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent, Role
from mutualaid.services import notes
from mutualaid.services.accounts import create_account
from mutualaid.services.audit import Actor
from mutualaid.services.errors import Refused
from tests import builders

NOW = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


@pytest.fixture
def coordinator(session) -> Actor:
    account = create_account(session, "c@example.org", "a long password here", Role.COORDINATOR)
    return Actor.coordinator(account.id)


def test_notes_are_listed_newest_first_with_their_author(session, coordinator) -> None:
    req = builders.aid_request(session)
    notes.add_note(session, req, "called, no answer", actor=coordinator, now=NOW)
    notes.add_note(
        session, req, "  back tomorrow\x00 \n", actor=coordinator, now=NOW + dt.timedelta(hours=1)
    )
    listed = notes.notes_on(session, req.id)
    assert [(n.body, n.author) for n in listed] == [
        ("back tomorrow", "c@example.org"),
        ("called, no answer", "c@example.org"),
    ]
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.noted")).all()
    assert len(events) == 2 and all("back" not in str(e.detail) for e in events)


@pytest.mark.parametrize(
    ("body", "key"), [("", "empty_note"), (" \x00 ", "empty_note"), ("x" * 2001, "note_too_long")]
)
def test_an_empty_or_overlong_note_is_refused(session, coordinator, body, key) -> None:
    req = builders.aid_request(session)
    with pytest.raises(Refused) as refused:
        notes.add_note(session, req, body, actor=coordinator, now=NOW)
    assert refused.value.key == key and notes.notes_on(session, req.id) == []


@pytest.mark.parametrize("actor", [Actor.system(), Actor.person(1)])
def test_only_a_coordinator_writes_notes(session, actor) -> None:
    req = builders.aid_request(session)
    with pytest.raises(Refused) as refused:
        notes.add_note(session, req, "hello", actor=actor, now=NOW)
    assert refused.value.key == "not_a_coordinator"
