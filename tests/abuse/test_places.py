"""Item 4: places, not points. Typed coordinates are used for distances; what anyone but
the accepted volunteer is shown is a place name, a ZIP or a point rounded to ~1 km."""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from sqlalchemy import select

from mutualaid.models import AidRequest, Role
from mutualaid.services.accounts import new_api_token
from tests.abuse.helpers import ROSA, VERA, bodies_to, match_now, volunteer
from tests.sms_helpers import text
from tests.web.dashboard_helpers import account, logged_in

# The typed point to 3 decimals or more (~100 m): what must never be shown.
EXACT = re.compile(r"34\.07[0-9]|118\.40[0-9]")


def test_typed_coordinates_are_never_shown_as_the_area(app, client, session) -> None:
    volunteer(session, VERA, at=(34.0700, -118.4000), radius_km=5.0)
    session.commit()
    text(client, app, ROSA, "need groceries 34.0736,-118.4004")
    req = session.scalars(select(AidRequest)).one()
    assert req.lat == 34.0736  # the exact point is kept, for distances

    match_now(app)
    (proposal,) = [b for b in bodies_to(session, VERA) if "YES" in b]
    assert not EXACT.search(proposal), proposal
    link = re.search(r"https?://\S+/t/\S+", proposal).group()
    proposal_page = client.get(urlsplit(link).path).get_data(as_text=True)
    assert not EXACT.search(proposal_page)

    viewer = logged_in(app, session, Role.VIEWER)
    coordinator = logged_in(app, session, Role.COORDINATOR)
    shown = {
        "viewer list": viewer.get("/dashboard/requests"),
        "viewer page": viewer.get(f"/dashboard/requests/{req.id}"),
        "coordinator page": coordinator.get(f"/dashboard/requests/{req.id}"),
        "masked csv": viewer.get("/dashboard/export/requests.csv"),
        "figures": viewer.get("/dashboard/figures"),
    }
    reader = account(session, Role.VIEWER)
    token = new_api_token(session, reader)
    session.commit()
    auth = {"Authorization": f"Bearer {token}"}
    shown["api list"] = client.get("/api/requests", headers=auth)
    shown["api request"] = client.get(f"/api/requests/{req.id}", headers=auth)
    for where, response in shown.items():
        assert response.status_code == 200, where
        assert not EXACT.search(response.get_data(as_text=True)), where
