"""The audit log reads as sentences with links, not developer output ("person 120",
"['pharmacy', 'rides']", "km: 2.1640654613949866")."""

from __future__ import annotations

from mutualaid.models import AuditEvent, Role
from tests import builders
from tests.web.dashboard_helpers import logged_in


def test_events_read_as_sentences_with_links(app, session) -> None:
    req = builders.aid_request(session)
    offer = builders.offer(session)
    session.add_all(
        [
            AuditEvent(
                actor_type="person", actor_id=req.requester_id, action="request.created",
                subject_type="aid_requests", subject_id=req.id, to_state="open",
                detail={"category": "groceries"},
            ),
            AuditEvent(
                actor_type="person", actor_id=offer.person_id, action="offer.created",
                subject_type="offers", subject_id=offer.id,
                detail={"categories": ["pharmacy", "rides"], "km": 2.1640654613949866},
            ),
            AuditEvent(
                actor_type="system", action="something.new", subject_type="aid_requests",
                subject_id=req.id,
            ),
        ]
    )  # fmt: skip
    session.commit()
    coordinator = logged_in(app, session, Role.COORDINATOR)
    page = coordinator.get("/dashboard/audit").get_data(as_text=True)
    assert (
        f'<a href="/dashboard/people/{req.requester_id}">person P{req.requester_id}</a> asked '
        f'for help: <a href="/dashboard/requests/{req.id}">request {req.id}</a> (→ open)'
    ) in page
    assert "categories: pharmacy, rides; km: 2.2" in page
    assert "[&#39;pharmacy&#39;" not in page and "2.1640654613949866" not in page
    assert "The system: something new," in page  # an action without a sentence of its own
    spanish = coordinator.get("/dashboard/audit?lang=es").get_data(as_text=True)
    assert "pidió ayuda" in spanish


def test_counts_have_plural_forms(app, session) -> None:
    builders.aid_request(session)
    builders.aid_request(session)
    session.commit()
    coordinator = logged_in(app, session, Role.COORDINATOR)
    spanish = coordinator.get("/dashboard/?lang=es").get_data(as_text=True)
    assert '<span class="n">2</span> abiertas' in spanish
    assert '<span class="n">0</span> asignadas' in spanish
