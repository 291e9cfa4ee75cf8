"""The demo network: an empty database is filled once with volunteers, requests in every
state and an organiser's account; a database with data is left alone."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import func, select

from mutualaid.models import Account, AidRequest, Offer, RequestStatus
from mutualaid.services.demo import database_is_empty, seed_demo_network
from mutualaid.services.location import read_places_file

PLACES = Path(__file__).resolve().parents[2] / "config" / "places" / "demo-brooklyn.toml"


def test_the_demo_fills_an_empty_database(app, session) -> None:
    assert database_is_empty(session)
    summary = seed_demo_network(
        session, read_places_file(PLACES), categories=app.extensions["categories"], seed=7
    )
    session.commit()
    assert not database_is_empty(session)
    assert (summary.volunteers, summary.requests) == (60, 40)
    assert session.scalar(select(func.count()).select_from(Offer)) == 60
    states = set(session.scalars(select(AidRequest.status)))
    assert states == set(RequestStatus)
    admin = session.scalars(select(Account)).one()
    assert admin.email == summary.admin_email and len(summary.admin_password) >= 12
    assert session.scalar(select(func.count()).where(Offer.paused.is_(True))) >= 1
