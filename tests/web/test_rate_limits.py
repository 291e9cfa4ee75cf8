"""Abuse limits: per sender for SMS, per address for forms, shared by every process."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    Message,
    MessageDirection,
    MessageStatus,
    PendingSubmission,
)
from mutualaid.services.limits import Limit, allowed, limit_key
from tests.conftest import base_config
from tests.sms_helpers import replies, text

ROSA = "+17185550101"


class TestSms:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"SMS_RATE_LIMIT": 3, "SMS_RATE_WINDOW_SECONDS": 3600}

    def test_a_flood_is_stored_but_not_acted_on(self, app, client, session) -> None:
        for _ in range(6):
            assert text(client, app, ROSA, "HELP").status_code == 200
        inbound = session.scalars(
            select(Message).where(Message.direction == MessageDirection.INBOUND)
        ).all()
        assert len(inbound) == 6
        assert all(m.status is MessageStatus.PROCESSED for m in inbound)
        assert replies(session, ROSA) == ["help"] * 3 + ["rate_limited"]
        # Another phone is not affected.
        text(client, app, "+17185550122", "HELP")
        assert replies(session, "+17185550122") == ["help"]


class TestForms:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"FORM_RATE_LIMIT": 2, "FORM_RATE_WINDOW_SECONDS": 3600}

    def test_too_many_posts_from_one_address(self, client, session) -> None:
        data = {
            "category": "groceries",
            "location_text": "11216",
            "urgency": "normal",
            "phone": "718 555 0101",
        }
        assert client.post("/request", data=data).status_code == 303
        assert client.post("/request", data=data).status_code == 303
        third = client.post("/request", data=data)
        assert third.status_code == 429
        assert "Too many forms" in third.get_data(as_text=True)
        assert session.scalar(select(func.count()).select_from(PendingSubmission)) == 2
        assert session.scalar(select(func.count()).select_from(AidRequest)) == 0  # unconfirmed


def test_counts_are_shared_between_processes(database_url) -> None:
    """Two app instances (as two web workers) count one key together."""
    apps = [create_app(base_config(database_url)) for _ in range(2)]
    limit = Limit(5, 3600)
    now = dt.datetime.now(dt.UTC)
    results = []
    for i in range(8):
        with apps[i % 2].app_context():
            key = limit_key("k", "sms", ROSA)
            results.append(allowed(db.session, key, limit, now=now))
            db.session.commit()
    for app in apps:
        with app.app_context():
            db.engine.dispose()
    assert results == [True] * 5 + [False] * 3


def test_keys_do_not_reveal_the_number() -> None:
    key = limit_key("secret", "sms", ROSA)
    assert "555" not in key and key.startswith("sms:")
