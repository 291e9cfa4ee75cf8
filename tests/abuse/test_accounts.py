"""Item 8: a changed password locks out whoever held the old one, API included; a stranger
cannot lock an organiser out, and one address cannot try passwords on every account."""

from __future__ import annotations

import re

import pytest

from mutualaid.models import Role
from tests.web.dashboard_helpers import PASSWORD, account, login

NEW_PASSWORD = "a much longer new passphrase"
STRANGER = {"REMOTE_ADDR": "203.0.113.66"}
ORGANISER = {"REMOTE_ADDR": "198.51.100.7"}


def test_an_api_token_stops_working_when_the_password_changes(app, client, session) -> None:
    """Someone who once had the password (or the cookie) made a token; the organiser
    changes the password; the token must die with it."""
    acct = account(session, Role.COORDINATOR)
    assert login(client, acct.email).status_code == 303
    page = client.post("/account/api-token").get_data(as_text=True)
    token = re.search(r"(ma_[A-Za-z0-9_-]+)", page).group(1)
    auth = {"Authorization": f"Bearer {token}"}
    assert app.test_client().get("/api/requests", headers=auth).status_code == 200

    changed = client.post(
        "/account/password",
        data={"current": PASSWORD, "new": NEW_PASSWORD, "confirm": NEW_PASSWORD},
    )
    assert changed.status_code == 200

    assert app.test_client().get("/api/requests", headers=auth).status_code == 401


class TestLoginLimits:
    @pytest.fixture
    def app_config(self) -> dict:
        return {
            "LOGIN_RATE_LIMIT": 5,
            "LOGIN_RATE_WINDOW_SECONDS": 900,
            "LOGIN_ADDRESS_RATE_LIMIT": 10,
        }

    def test_a_stranger_cannot_lock_an_organiser_out(self, app, session) -> None:
        acct = account(session, Role.COORDINATOR)
        stranger = app.test_client()
        for _ in range(8):
            response = stranger.post(
                "/login",
                data={"email": acct.email, "password": "guess guess guess"},
                environ_base=STRANGER,
            )
            assert response.status_code in (401, 429)
        organiser = app.test_client()
        response = organiser.post(
            "/login", data={"email": acct.email, "password": PASSWORD}, environ_base=ORGANISER
        )
        assert response.status_code == 303

    def test_one_address_cannot_spray_a_password_over_many_accounts(self, app, session) -> None:
        accounts = [account(session, Role.VIEWER) for _ in range(15)]
        sprayer = app.test_client()
        statuses = [
            sprayer.post(
                "/login",
                data={"email": a.email, "password": "Summer2026!Summer"},
                environ_base=STRANGER,
            ).status_code
            for a in accounts
        ]
        assert statuses[:10] == [401] * 10
        assert set(statuses[10:]) == {429}
