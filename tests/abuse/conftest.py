"""The abuse-case suite: each test is one attack on people's safety, written the way an
attacker (or an unlucky user) would carry it out — through the public forms, signed
webhooks exactly as Twilio signs them, and the dashboard — on SQLite and PostgreSQL.

Victims' standing state (an accepted task, an offer) is built directly; everything the
attacker does goes through the service's own doors."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True)
def places(app, runner) -> None:
    from mutualaid.cli import places_load

    assert runner.invoke(places_load, []).exit_code == 0
