"""The opt-in on a person's dashboard page, and a coordinator confirming an imported
request taken by phone."""

from __future__ import annotations

from mutualaid.models import Role
from mutualaid.services import optin
from mutualaid.services.audit import Actor
from tests import builders
from tests.web.dashboard_helpers import logged_in


def _imported_request(session):
    req = builders.aid_request(session)
    req.requester.imported_from = "asks.csv"
    optin.mark_waiting(session, req.requester, source="import:asks.csv", actor=Actor.system())
    session.commit()
    return req


def test_the_request_page_shows_the_opt_in_and_its_source(app, session) -> None:
    req = _imported_request(session)
    viewer = logged_in(app, session, Role.VIEWER)
    page = viewer.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "waiting for their YES" in page and "import:asks.csv" in page
    assert "imported from asks.csv" in page
    assert "confirmed-by-phone" not in page  # a viewer does not act


def test_a_coordinator_confirms_it_by_phone(app, session) -> None:
    req = _imported_request(session)
    coordinator = logged_in(app, session, Role.COORDINATOR)
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert f"/dashboard/requests/{req.id}/confirmed-by-phone" in page
    response = coordinator.post(f"/dashboard/requests/{req.id}/confirmed-by-phone")
    assert response.status_code == 303
    session.refresh(req.requester)
    assert not req.requester.awaiting_opt_in
    assert req.requester.opt_in_source.startswith("phone:coordinator:")
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "opted in on" in page and "confirmed-by-phone" not in page


def test_the_volunteer_page_shows_the_opt_in(app, session) -> None:
    offer = builders.offer(session)
    offer.person.imported_from = "volunteers.csv"
    optin.mark_waiting(session, offer.person, source="import:volunteers.csv", actor=Actor.system())
    optin.confirm(session, offer.person, source="sms:YES", actor=Actor.person(offer.person.id))
    session.commit()
    viewer = logged_in(app, session, Role.VIEWER)
    page = viewer.get(f"/dashboard/volunteers/{offer.id}").get_data(as_text=True)
    assert "opted in on" in page and "sms:YES" in page and "volunteers.csv" in page
