"""After an outage: the texts Twilio received while we were down are imported from its
message list and handled, each exactly once, however often the job runs."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from mutualaid.models import AidRequest, Message, MessageDirection, MessageStatus
from mutualaid.worker.jobs import recover_inbound
from sms.transport import TwilioSender
from tests.fakes.twilio import FakeTwilio
from tests.sms_helpers import text

OURS = "+15005550006"


@pytest.fixture(autouse=True)
def places(runner) -> None:
    from mutualaid.cli import places_load

    runner.invoke(places_load, [])


def test_messages_received_while_down_are_imported_once(app, client, session) -> None:
    with FakeTwilio() as fake:
        sender = TwilioSender(
            fake.account_sid, fake.auth_token, from_number=OURS, api_base_url=fake.base_url
        )
        # One text did reach us before the outage …
        delivered = fake.add_inbound("+17185550101", OURS, "HELP")
        text(client, app, "+17185550101", "HELP", MessageSid=delivered["sid"])
        # … these four did not.
        start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=10)
        for minute, (sender_phone, body) in enumerate(
            [
                ("+17185550102", "need groceries 11216"),
                ("+17185550103", "NECESITO medicina 11221"),
                ("+17185550104", "offer rides 11216 5km"),
                ("+17185550102", "STATUS"),
            ]
        ):
            at = start + dt.timedelta(minutes=minute)
            fake.add_inbound(sender_phone, OURS, body, received_at=at)
        first = recover_inbound(app, since=dt.timedelta(hours=1), sender=sender)
        again = recover_inbound(app, since=dt.timedelta(hours=1), sender=sender)
        sender.close()
    assert (first, again) == (4, 0)
    session.expire_all()
    inbound = session.scalars(
        select(Message).where(Message.direction == MessageDirection.INBOUND).order_by(Message.id)
    ).all()
    assert len(inbound) == 5
    assert all(m.status is MessageStatus.PROCESSED for m in inbound)
    assert session.scalar(select(func.count()).select_from(AidRequest)) == 2
    # Handled in the order they were received: the request exists before its STATUS.
    status_reply = session.scalars(
        select(Message).where(
            Message.phone == "+17185550102", Message.template == "status_requester"
        )
    ).one()
    assert status_reply is not None
