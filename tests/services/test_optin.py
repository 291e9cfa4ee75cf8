"""Imported people's opt-in: waiting until their YES (or a coordinator's call), nothing
proposed to them or for them meanwhile, the source kept on the person."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from mutualaid import adapters
from mutualaid.adapters import sms_context
from mutualaid.models import Person
from mutualaid.services import matching_runs, optin
from mutualaid.services.audit import Actor
from mutualaid.services.imports import ImportSettings, import_file
from tests import builders
from tests.sms_helpers import outbox, replies, text


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


# -- end to end: imported, asked once, YES by text -----------------------------------------

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "imports"
ROSA = "+17185550101"


@pytest.fixture
def imported(app, runner, session):
    from mutualaid.cli import places_load

    runner.invoke(places_load, [])

    def run(name: str, kind: str, **kwargs) -> None:
        import_file(
            session,
            (FIXTURES / name).read_bytes(),
            kind,
            filename=name,
            settings=ImportSettings.from_config(app.config, app.extensions["categories"]),
            resolver=adapters.resolver(),
            actor=Actor.system(),
            sms=sms_context(),
            **kwargs,
        )
        session.commit()

    return run


def test_an_imported_volunteer_is_asked_once_and_proposed_nothing_until_yes(
    app, client, session, imported
) -> None:
    imported("google_forms_volunteers_en.csv", "volunteers")
    imported("google_forms_volunteers_en.csv", "volunteers")  # again: asked once all the same
    assert [m.template for m in outbox(session, ROSA, notices=True)] == [
        "first_notice",
        "optin_volunteer",
    ]
    ask = outbox(session, ROSA)[0].body
    assert "Reply YES to get requests near you from" in ask and "STOP to opt out" in ask
    builders.aid_request(session, lat=40.681, lon=-73.949)  # near 11216
    session.commit()
    run, _plan = matching_runs.run_matching(
        session, sms_context(), matching_runs.RunSettings.from_config(app.config), trigger="test"
    )
    session.commit()
    assert run.proposed == 0
    text(client, app, ROSA, "YES")
    assert replies(session, ROSA)[-1] == "optin_confirmed_volunteer"
    rosa = session.scalars(select(Person).where(Person.phone == ROSA)).one()
    assert not rosa.awaiting_opt_in and rosa.opt_in_source == "sms:YES" and rosa.opted_in_at
    run, _plan = matching_runs.run_matching(
        session, sms_context(), matching_runs.RunSettings.from_config(app.config), trigger="test"
    )
    session.commit()
    assert run.proposed == 1


def test_an_imported_requester_confirms_their_request(app, client, session, imported) -> None:
    imported("excel_requests_semicolon_bom.csv", "requests")
    gloria = "+17185550121"
    (ask,) = outbox(session, gloria)
    assert ask.template == "optin_request" and "Groceries" in ask.body
    text(client, app, gloria, "si")
    assert replies(session, gloria)[-1] == "optin_confirmed_request"


def test_no_leaves_them_waiting_and_a_text_of_their_own_opts_them_in(
    app, client, session, imported
) -> None:
    imported("google_forms_volunteers_en.csv", "volunteers")
    text(client, app, ROSA, "NO")
    assert replies(session, ROSA)[-1] == "optin_declined"
    person = session.scalars(select(Person).where(Person.phone == ROSA)).one()
    assert person.awaiting_opt_in and person.opt_in_source == "sms:NO"
    text(client, app, ROSA, "offer groceries 11216 3km")
    session.refresh(person)
    assert not person.awaiting_opt_in and person.opt_in_source == "sms:OFFER"


def test_requests_taken_by_phone_are_asked_nothing(app, session, imported) -> None:
    imported("excel_requests_semicolon_bom.csv", "requests", taken_by_phone=True)
    assert outbox(session) == []
