"""The development SMS simulator goes through the signed webhook; production has none."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from mutualaid.models import AidRequest, Message
from sms.signature import is_message_sid


def test_not_in_production(client) -> None:
    assert client.get("/dev/sms").status_code == 404
    assert (
        client.post("/dev/sms", data={"phone": "+17185550101", "body": "HELP"}).status_code == 404
    )


class TestInDevelopment:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"ENV": "development"}

    def test_a_text_and_its_reply(self, app, client, session, runner) -> None:
        from mutualaid.cli import places_load

        runner.invoke(places_load, [])
        response = client.post(
            "/dev/sms", data={"phone": "+17185550101", "body": "need groceries 11216"}
        )
        assert response.status_code == 303
        page = client.get(response.headers["Location"]).get_data(as_text=True)
        assert "need groceries 11216" in page and "Thank you. Your request" in page
        assert session.scalars(select(AidRequest)).one().channel.value == "sms"
        inbound = session.scalars(select(Message).where(Message.direction == "inbound")).one()
        assert is_message_sid(inbound.provider_sid)  # the shape Twilio gives, so it is stored
