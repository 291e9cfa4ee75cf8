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


def test_edit_places_a_request_by_name_zip_address_or_coordinates(
    app, session, coordinator, runner
) -> None:
    from mutualaid.adapters import resolver
    from mutualaid.cli import places_load
    from mutualaid.services.intake import NEEDS_LOCATION

    assert runner.invoke(places_load, []).exit_code == 0
    req = builders.aid_request(
        session, lat=None, lon=None, flagged=True, flag_reason=NEEDS_LOCATION
    )
    categories, where = app.extensions["categories"], resolver()

    def edit(**changes) -> bool:
        return request_commands.edit(
            session, req, categories=categories, actor=coordinator, resolver=where,
            changes=request_commands.Changes(**changes), languages=("en", "es"),
        )  # fmt: skip

    with pytest.raises(Refused) as refused:
        edit(location="behind the old bakery")
    assert refused.value.key == "place_not_found" and req.needs_location
    assert edit(location="Crown Heights")
    assert req.location_label == "Crown Heights" and not req.flagged
    assert not edit(location="Crown Heights")  # the form sends back what it shows
    assert edit(location="11216")
    assert req.location_label.startswith("11216")
    assert edit(location="40.6801, -73.9502")
    assert req.location_precision.value == "exact"
    assert edit(location="350 Fulton St 11238")
    assert req.address == "350 Fulton St 11238" and req.location_label.startswith("11238")
    assert edit(address="", details="ring 4B", language="es")
    assert (req.address, req.details, req.language) == (None, "ring 4B", "es")
    with pytest.raises(Refused):
        edit(language="xx")
    events = session.scalars(select(AuditEvent).where(AuditEvent.action == "request.edited"))
    assert all("4B" not in str(e.detail) and "Fulton" not in str(e.detail) for e in events)
