"""Item 5: search only what the reader may read. A viewer sees texts masked; a search
that lists hits would read them anyway, one guess at a time."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import AuditEvent, Role
from tests.abuse.helpers import ROSA, VERA, accepted_task, volunteer
from tests.sms_helpers import text
from tests.web.dashboard_helpers import logged_in


@pytest.fixture
def door_code(app, client, session) -> None:
    vera = volunteer(session, VERA)
    accepted_task(session, ROSA, vera)
    session.commit()
    text(client, app, ROSA, "I am home now at 12 Canon Dr, door code 4417")


def test_a_viewer_cannot_find_a_door_code_by_guessing(app, session, door_code) -> None:
    viewer = logged_in(app, session, Role.VIEWER)
    for guess in ("door code 44", "door code 4417", "Canon Dr"):
        response = viewer.post("/dashboard/messages/search", data={"q": guess})
        assert response.status_code == 403, guess


def test_a_viewer_cannot_learn_whether_a_number_ever_texted(app, session, door_code) -> None:
    viewer = logged_in(app, session, Role.VIEWER)
    response = viewer.post("/dashboard/messages/search", data={"phone": "718 555 0101"})
    assert response.status_code == 403


class TestCoordinatorsSearches:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"MESSAGE_SEARCH_RATE_LIMIT": 3, "MESSAGE_SEARCH_RATE_WINDOW_SECONDS": 600}

    def test_are_audited_and_rate_limited(self, app, session, door_code) -> None:
        coordinator = logged_in(app, session, Role.COORDINATOR)
        statuses = [
            coordinator.post("/dashboard/messages/search", data={"q": f"door code {n}"}).status_code
            for n in range(5)
        ]
        assert statuses == [200, 200, 200, 429, 429]
        searches = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "messages.searched")
        ).all()
        assert len(searches) == 3
        assert all("door" not in str(e.detail) for e in searches)  # not what was looked for

    def test_a_phone_search_is_audited_by_whose_number_not_the_number(
        self, app, session, door_code
    ) -> None:
        from mutualaid.models import Person

        coordinator = logged_in(app, session, Role.COORDINATOR)
        response = coordinator.post("/dashboard/messages/search", data={"phone": "718 555 0101"})
        assert response.status_code == 200
        (event,) = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "messages.searched")
        ).all()
        rosa = session.scalar(select(Person).where(Person.phone == ROSA))
        assert (event.subject_type, event.subject_id) == ("people", rosa.id)
        assert event.detail["by_phone"] and "0101" not in str(event.detail)
