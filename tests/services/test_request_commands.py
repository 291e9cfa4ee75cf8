"""What a coordinator does to a request, the same from the dashboard and the API: each
action either happens or raises a refusal with nothing changed."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import AuditEvent, MatchStatus, RequestStatus, Urgency
from mutualaid.services import request_commands
from mutualaid.services.errors import Conflict, Refused
from tests import builders


@pytest.fixture
def coordinator(session):
    return builders.coordinator(session)


def test_cancel_an_open_request_and_tell_its_volunteer(app, session, coordinator) -> None:
    match = builders.match(session, status=MatchStatus.PROPOSED)
    request_commands.cancel(session, sms_context(), match.request, actor=coordinator)
    assert match.request.status is RequestStatus.CANCELLED
    assert match.status is MatchStatus.WITHDRAWN


@pytest.mark.parametrize("state", [RequestStatus.COMPLETED, RequestStatus.CANCELLED])
def test_a_closed_request_cannot_be_cancelled(app, session, coordinator, state) -> None:
    req = builders.aid_request(session, status=state)
    with pytest.raises(Conflict) as refused:
        request_commands.cancel(session, sms_context(), req, actor=coordinator)
    assert refused.value.key == "not_cancellable" and refused.value.values == {"state": state.value}
    assert req.status is state


def test_complete_needs_an_accepted_volunteer(app, session, coordinator) -> None:
    req = builders.aid_request(session)
    with pytest.raises(Conflict) as refused:
        request_commands.complete(session, sms_context(), req, actor=coordinator)
    assert refused.value.key == "complete_needs_accepted"
    accepted = builders.match(session, request=req, status=MatchStatus.ACCEPTED)
    req.status = RequestStatus.MATCHED
    assert request_commands.complete(session, sms_context(), req, actor=coordinator) is accepted
    assert (accepted.status, req.status) == (MatchStatus.COMPLETED, RequestStatus.COMPLETED)


def test_merge_cancels_the_duplicate_and_records_both_ends(app, session, coordinator) -> None:
    into = builders.aid_request(session, ref="KEEP1")
    duplicate = builders.aid_request(session)
    assert (
        request_commands.merge(session, sms_context(), duplicate, "keep1", actor=coordinator)
        is into
    )
    assert duplicate.status is RequestStatus.CANCELLED and into.status is RequestStatus.OPEN
    actions = set(session.scalars(select(AuditEvent.action)))
    assert {"request.merged", "request.merged_from"} <= actions


@pytest.mark.parametrize("into", ["", "NOPE9", "SELF"])
def test_merge_needs_another_request(app, session, coordinator, into) -> None:
    duplicate = builders.aid_request(session, ref="SELF")
    with pytest.raises(Refused) as refused:
        request_commands.merge(session, sms_context(), duplicate, into, actor=coordinator)
    assert refused.value.key == "merge_needs_ref"
    assert duplicate.status is RequestStatus.OPEN


def test_edit_changes_only_what_differs(app, session, coordinator) -> None:
    req = builders.aid_request(session)
    categories = app.extensions["categories"]
    assert not request_commands.edit(
        session, req, category="groceries", urgency=Urgency.NORMAL, categories=categories,
        actor=coordinator,
    )  # fmt: skip
    assert request_commands.edit(
        session, req, category="groceries", urgency=Urgency.URGENT, categories=categories,
        actor=coordinator,
    )  # fmt: skip
    (event,) = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.edited"))
    assert event.detail == {"urgency": "normal -> urgent"}


@pytest.mark.parametrize(
    ("state", "category", "key"),
    [
        (RequestStatus.MATCHED, "groceries", "not_open"),
        (RequestStatus.OPEN, "yachts", "unknown_category"),
    ],
)
def test_edit_refuses(app, session, coordinator, state, category, key) -> None:
    req = builders.aid_request(session, status=state)
    with pytest.raises(Refused) as refused:
        request_commands.edit(
            session, req, category=category, urgency=Urgency.URGENT,
            categories=app.extensions["categories"], actor=coordinator,
        )  # fmt: skip
    assert refused.value.key == key and req.urgency is Urgency.NORMAL


def test_many_at_once_count_what_changed(app, session, coordinator) -> None:
    reqs = [builders.aid_request(session) for _ in range(3)]
    reqs[0].status = RequestStatus.COMPLETED
    assert request_commands.flag_many(session, reqs, "call first", actor=coordinator) == 3
    assert request_commands.flag_many(session, reqs, "call first", actor=coordinator) == 0
    assert request_commands.cancel_many(session, sms_context(), reqs, actor=coordinator) == 2
