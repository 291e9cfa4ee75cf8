"""What a coordinator does to a volunteer: each action once, audited, whatever the page."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent
from mutualaid.services import volunteer_commands
from tests import builders

NOW = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)


def test_each_action_changes_once(session) -> None:
    coordinator = builders.coordinator(session)
    offer = builders.offer(session)
    for action in ("vet", "pause", "resume", "block"):
        assert volunteer_commands.act(session, offer, action, actor=coordinator, now=NOW)
    assert offer.vetted and offer.vetted_at == NOW and offer.vetted_by == coordinator.id
    assert not offer.paused and offer.person.blocked
    assert not volunteer_commands.act(session, offer, "vet", actor=coordinator, now=NOW)
    assert not volunteer_commands.act(session, offer, "block", actor=coordinator, now=NOW)
    assert not volunteer_commands.act(session, offer, "resume", actor=coordinator, now=NOW)
    actions = session.scalars(
        select(AuditEvent.action)
        .where(AuditEvent.subject_type.in_(("offers", "people")))
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["offer.vetted", "offer.paused", "offer.resumed", "person.blocked"]


def test_an_unknown_action_is_an_error(session) -> None:
    coordinator = builders.coordinator(session)
    offer = builders.offer(session)
    with pytest.raises(ValueError):
        volunteer_commands.act(session, offer, "promote", actor=coordinator, now=NOW)
