"""Retention and erasure: after them, a dump of the whole database holds no trace of the
person's canary data; anonymous figures remain."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, update

from mutualaid.models import (
    AidRequest,
    AuditEvent,
    Base,
    MatchStatus,
    Person,
    RequestNote,
    RequestStatus,
    Role,
)
from mutualaid.services.audit import Actor
from mutualaid.services.retention import erase_person, purge
from tests import builders
from tests.sms_helpers import confirm_by_sms, text
from tests.web.dashboard_helpers import account, login

PHONE, DIGITS = "+17185550142", "5550142"
NOTE = "canary-note-NNN: her son Canaryson answers"
CANARIES = [
    "Canaryname",
    "12 Canary Lane",
    "canary-detail-XYZ",
    "canary-relay-QQQ",
    "canary-note-NNN",
    "Canaryson",
    DIGITS,
]


def dump(session) -> str:
    """Every row of every table, as text (what a stolen backup would show)."""
    session.expire_all()
    rows = []
    for table in Base.metadata.sorted_tables:
        rows += [repr(tuple(row)) for row in session.execute(select(table))]
    return "\n".join(rows)


@pytest.fixture
def story(app, client, session):
    """Rosa asks by the web form with her address; a coordinator notes something about her
    on the request's page; a volunteer helps; they text."""
    from mutualaid.cli import places_load

    app.test_cli_runner().invoke(places_load, [])
    client.post(
        "/request",
        data={
            "category": "groceries",
            "details": "canary-detail-XYZ",
            "location_text": "11216",
            "address": "12 Canary Lane",
            "urgency": "normal",
            "name": "Canaryname",
            "phone": PHONE,
        },
    )
    confirm_by_sms(client, app, session, PHONE)
    req = session.scalars(select(AidRequest)).one()
    coordinator = app.test_client()
    assert login(coordinator, account(session, Role.COORDINATOR).email).status_code == 303
    coordinator.post(f"/dashboard/requests/{req.id}/notes", data={"body": NOTE})
    volunteer = builders.person(session, phone="+17185550188", name="Helper")
    match = builders.match(session, request=req, offer=builders.offer(session, person=volunteer))
    session.commit()
    from mutualaid.adapters import sms_context
    from mutualaid.services import lifecycle

    lifecycle.accept(session, sms_context(), match, actor=Actor.person(volunteer.id))
    session.commit()
    text(client, app, PHONE, "canary-relay-QQQ ring twice")
    text(client, app, "+17185550188", "DONE")
    assert all(c in dump(session) for c in CANARIES)
    return req


def test_purge_after_the_retention_period(app, session, story) -> None:
    now = dt.datetime.now(dt.UTC)
    # Not yet: the request closed today.
    assert purge(session, now=now, retention=dt.timedelta(days=90)).requests == 0
    session.execute(update(AidRequest).values(closed_at=now - dt.timedelta(days=91)))
    session.commit()
    report = purge(session, now=now, retention=dt.timedelta(days=90))
    session.commit()
    assert (report.requests, report.people) == (1, 1)
    everything = dump(session)
    for canary in CANARIES:
        assert canary not in everything, canary
    # The figures survive: one completed groceries request, near where it was.
    req = session.scalars(select(AidRequest)).one()
    assert (req.category, req.status) == ("groceries", RequestStatus.COMPLETED)
    assert req.lat == pytest.approx(40.68, abs=0.01)
    # The volunteer, who still volunteers, is not forgotten.
    assert session.scalars(select(Person).where(Person.phone == "+17185550188")).one()
    assert report.notes == 1 and session.scalar(select(RequestNote)) is None
    # A second run finds nothing more to do.
    again = purge(session, now=now, retention=dt.timedelta(days=90))
    assert (again.requests, again.people) == (0, 0)


def test_a_note_written_after_the_purge_goes_at_the_next(app, session, story) -> None:
    now = dt.datetime.now(dt.UTC)
    session.execute(update(AidRequest).values(closed_at=now - dt.timedelta(days=91)))
    session.commit()
    purge(session, now=now, retention=dt.timedelta(days=90))
    session.commit()
    author = account(session, Role.COORDINATOR)
    session.add(RequestNote(request_id=story.id, author_id=author.id, body=NOTE))
    session.commit()
    assert "canary-note-NNN" in dump(session)
    report = purge(session, now=now, retention=dt.timedelta(days=90))
    session.commit()
    assert (report.requests, report.notes) == (1, 1)
    assert "canary-note-NNN" not in dump(session)


def test_the_note_is_audited_without_its_text(app, session, story) -> None:
    event = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.noted")).one()
    note = session.scalars(select(RequestNote)).one()
    assert (event.subject_id, event.detail) == (story.id, {"note_id": note.id})
    assert note.body == NOTE


def test_erase_a_person_at_once(app, session, story) -> None:
    rosa = session.scalars(select(Person).where(Person.phone == PHONE)).one()
    erase_person(session, rosa, actor=Actor.coordinator(1))
    session.commit()
    everything = dump(session)
    for canary in CANARIES:
        assert canary not in everything, canary
    session.expire_all()
    assert rosa.blocked and rosa.phone is None


def test_the_cli_runs_it(runner) -> None:
    from mutualaid.cli import purge as purge_command

    result = runner.invoke(purge_command, [])
    assert result.exit_code == 0 and "Erased 0 closed requests" in result.output


def test_an_admin_erases_a_person_from_the_dashboard(app, session, story) -> None:
    rosa = session.scalars(select(Person).where(Person.phone == PHONE)).one()
    back = f"/dashboard/requests/{story.id}"
    coordinator = app.test_client()
    login(coordinator, account(session, Role.COORDINATOR).email)
    assert "erase" not in coordinator.get(back).get_data(as_text=True).lower()
    refused = coordinator.post(
        f"/dashboard/people/{rosa.id}/erase", data={"confirm": "yes", "back": back}
    )
    assert refused.status_code == 403
    admin = app.test_client()
    login(admin, account(session, Role.ADMIN).email)
    assert "Erase this person" in admin.get(back).get_data(as_text=True)
    admin.post(f"/dashboard/people/{rosa.id}/erase", data={"back": back})  # not confirmed
    assert all(c in dump(session) for c in CANARIES)
    done = admin.post(
        f"/dashboard/people/{rosa.id}/erase",
        data={"confirm": "yes", "back": back},
        follow_redirects=True,
    )
    assert done.status_code == 200 and "Erased:" in done.get_data(as_text=True)
    everything = dump(session)
    for canary in CANARIES:
        assert canary not in everything, canary
    assert session.scalar(select(AuditEvent).where(AuditEvent.action == "person.erased"))
    # Their pages no longer offer to reveal or text what is gone.
    for url in (back, f"/dashboard/people/{rosa.id}"):
        page = admin.get(url).get_data(as_text=True)
        assert "Show contact details" not in page and "Send the text" not in page, url
        assert "contact details were erased" in page


def test_erasing_a_requester_cancels_their_open_request_first(app, session) -> None:
    proposal = builders.match(session)
    session.commit()
    admin = app.test_client()
    login(admin, account(session, Role.ADMIN).email)
    requester = proposal.request.requester
    admin.post(f"/dashboard/people/{requester.id}/erase", data={"confirm": "yes"})
    session.expire_all()
    assert proposal.request.status is RequestStatus.CANCELLED
    assert proposal.status is MatchStatus.WITHDRAWN
    assert requester.phone is None and requester.blocked


def test_a_volunteer_counted_on_for_an_accepted_task_is_not_erased(app, session) -> None:
    task = builders.match(session, status=MatchStatus.ACCEPTED)
    task.request.status = RequestStatus.MATCHED
    session.commit()
    admin = app.test_client()
    login(admin, account(session, Role.ADMIN).email)
    volunteer = task.offer.person
    page = admin.post(
        f"/dashboard/people/{volunteer.id}/erase",
        data={"confirm": "yes", "back": f"/dashboard/volunteers/{task.offer.id}"},
        follow_redirects=True,
    )
    assert f"accepted request {task.request.ref}" in page.get_data(as_text=True)
    session.expire_all()
    assert volunteer.phone is not None and not volunteer.blocked
