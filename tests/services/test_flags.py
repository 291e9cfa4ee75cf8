"""A request's flag: one function sets it, whoever flags (intake without a location, the
escalation sweep, a requester's "no", a coordinator), with one audit event."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent
from mutualaid.services import flags
from mutualaid.services.audit import Actor
from tests import builders


def _flag_events(session, req_id: int) -> list[AuditEvent]:
    return list(
        session.scalars(
            select(AuditEvent).where(
                AuditEvent.action == "request.flagged", AuditEvent.subject_id == req_id
            )
        )
    )


@pytest.mark.parametrize(
    ("actor", "detail"),
    [
        (Actor.system(), {"reason": "open for more than 24 hours"}),
        (Actor.person(7), {"reason": "open for more than 24 hours"}),
        (Actor.coordinator(1), {}),  # a coordinator's typed reason stays out of the audit
    ],
)
def test_flagging_records_who_and_why(session, actor, detail) -> None:
    req = builders.aid_request(session)
    assert flags.flag(session, req, "open for more than 24 hours", actor=actor)
    assert not flags.flag(session, req, "open for more than 24 hours", actor=actor)
    session.commit()
    assert req.flagged and req.flag_reason == "open for more than 24 hours"
    (event,) = _flag_events(session, req.id)
    assert (event.actor_type, event.detail) == (actor.type, detail)


def test_a_new_reason_replaces_the_old_and_is_recorded(session) -> None:
    req = builders.aid_request(session, flagged=True, flag_reason="needs location")
    assert flags.flag(session, req, "requester said they did not get help", actor=Actor.system())
    assert req.flag_reason == "requester said they did not get help"
    assert len(_flag_events(session, req.id)) == 1


@pytest.mark.parametrize(
    ("typed", "kept"),
    [("  urgent\x00 call back \n", "urgent call back"), ("x" * 500, "x" * flags.MAX_REASON)],
)
def test_a_reason_is_printable_and_bounded(session, typed, kept) -> None:
    req = builders.aid_request(session)
    flags.flag(session, req, typed, actor=Actor.coordinator(1))
    assert req.flag_reason == kept


@pytest.mark.parametrize("typed", ["", "   ", "\x00\x01"])
def test_a_flag_needs_a_reason(session, typed) -> None:
    req = builders.aid_request(session)
    with pytest.raises(ValueError):
        flags.flag(session, req, typed, actor=Actor.system())
    assert not req.flagged
