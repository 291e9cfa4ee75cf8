"""The coordinators' side of a thread: the overview's queue linked to the person and their
request, the person page, the thread on request and volunteer pages, "handled"."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import Conversation, Role, utcnow
from tests import builders
from tests.web.dashboard_helpers import logged_in


@pytest.fixture
def coordinator(app, session):
    return logged_in(app, session, Role.COORDINATOR)


def test_the_queue_links_the_person_and_handled_closes_it(app, session, coordinator) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session, person=req.requester)
    session.add(Conversation(person_id=req.requester_id, human_requested_at=utcnow(), data={}))
    session.commit()
    page = coordinator.get("/dashboard/").get_data(as_text=True)
    assert "Asked for a person (1)" in page
    assert f"/dashboard/people/{req.requester_id}" in page
    assert f"/dashboard/requests/{req.id}" in page and f"/dashboard/volunteers/{offer.id}" in page
    for url in (
        f"/dashboard/people/{req.requester_id}",
        f"/dashboard/requests/{req.id}",
        f"/dashboard/volunteers/{offer.id}",
    ):
        shown = coordinator.get(url)
        assert shown.status_code == 200, url
        assert "Talking with a coordinator" in shown.get_data(as_text=True)
    sent = coordinator.post(
        f"/dashboard/people/{req.requester_id}/message", data={"body": "Hello, it is Ana"}
    )
    assert sent.status_code == 303
    done = coordinator.post(
        f"/dashboard/people/{req.requester_id}/handled", data={"back": "/dashboard/"}
    )
    assert done.status_code == 303 and done.headers["Location"].endswith("/dashboard/")
    session.expire_all()
    conv = session.scalar(select(Conversation).where(Conversation.person_id == req.requester_id))
    assert conv.human_requested_at is None
    page = coordinator.get("/dashboard/").get_data(as_text=True)
    assert "Asked for a person (0)" in page
    assert coordinator.get("/dashboard/people/999999").status_code == 404


def test_a_viewer_reads_the_person_page_but_cannot_act(app, session) -> None:
    person = builders.person(session)
    session.commit()
    viewer = logged_in(app, session, Role.VIEWER)
    assert viewer.get(f"/dashboard/people/{person.id}").status_code == 200
    assert viewer.post(f"/dashboard/people/{person.id}/handled").status_code == 403
    assert (
        viewer.post(f"/dashboard/people/{person.id}/message", data={"body": "x"}).status_code == 403
    )
