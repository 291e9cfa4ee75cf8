"""Imported people's opt-in: waiting until their YES (or a coordinator's call), nothing
proposed to them or for them meanwhile, the source kept on the person."""

from __future__ import annotations

from mutualaid.adapters import sms_context
from mutualaid.services import matching_runs, optin
from mutualaid.services.audit import Actor
from tests import builders


def _snapshot(app, session):
    return matching_runs.take_snapshot(
        session,
        categories=app.extensions["categories"],
        settings=matching_runs.RunSettings.from_config(app.config),
        now=sms_context().now,
    )


def test_waiting_once_then_confirmed_once(session) -> None:
    person = builders.person(session)
    assert optin.mark_waiting(session, person, source="import:sheet.csv", actor=Actor.system())
    assert not optin.mark_waiting(session, person, source="import:sheet.csv", actor=Actor.system())
    assert person.awaiting_opt_in and person.opt_in_source == "import:sheet.csv"
    assert optin.confirm(session, person, source="sms:YES", actor=Actor.person(person.id))
    assert not optin.confirm(session, person, source="sms:YES", actor=Actor.person(person.id))
    assert not person.awaiting_opt_in and person.opted_in_at and person.opt_in_source == "sms:YES"
    # once opted in, a later import asks nothing again
    assert not optin.mark_waiting(session, person, source="import:other.csv", actor=Actor.system())


def test_nothing_is_proposed_to_or_for_someone_waiting(app, session) -> None:
    volunteer = builders.offer(session)
    request = builders.aid_request(session)
    for person in (volunteer.person, request.requester):
        optin.mark_waiting(session, person, source="import:x.csv", actor=Actor.system())
    session.flush()
    snapshot = _snapshot(app, session)
    assert (snapshot.needs, snapshot.volunteers) == ([], [])
    for person in (volunteer.person, request.requester):
        optin.confirm(session, person, source="sms:YES", actor=Actor.person(person.id))
    session.flush()
    snapshot = _snapshot(app, session)
    assert (len(snapshot.needs), len(snapshot.volunteers)) == (1, 1)
