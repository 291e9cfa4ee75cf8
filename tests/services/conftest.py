"""Fixtures of the service tests that drive a conversation by SMS."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.sms_helpers import outbox, replies, text

ROSA = "+17185550101"


@pytest.fixture
def sms(app, client, session) -> Callable[..., list[str]]:
    """Text ``body`` from ``sender`` (Rosa by default) through the signed webhook and the
    worker; the message keys of the answers it got."""

    def send(body: str, sender: str = ROSA) -> list[str]:
        before = len(outbox(session, sender))
        assert text(client, app, sender, body).status_code == 200
        return replies(session, sender)[before:]

    return send
