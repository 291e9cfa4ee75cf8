"""The inbox: each inbound text stored once per MessageSid, whichever way it arrives (the
webhook, a retry of it, the recovery of what Twilio received while we were down)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.models import Message, MessageStatus
from mutualaid.services import inbox
from sms.transport import ProviderMessage

SID = "SM" + "a" * 32
T0 = dt.datetime(2026, 11, 2, 12, 0, tzinfo=dt.UTC)


def _stored(session) -> list[Message]:
    return list(session.scalars(select(Message).order_by(Message.id)))


def test_a_text_is_stored_once_however_often_it_is_delivered(session) -> None:
    first = inbox.store_inbound(
        session, sid=SID, sender="(718) 555-0101", body="need\x00 milk", region="US", max_body=5
    )
    again = inbox.store_inbound(
        session, sid=SID, sender="+17185550101", body="x", region="US", max_body=5
    )
    assert first is not None and again is None
    (message,) = _stored(session)
    assert (message.phone, message.body, message.status) == (
        "+17185550101",
        "need ",
        MessageStatus.RECEIVED,
    )


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("+17185550101", "+17185550101"),
        ("(718) 555-0101", "+17185550101"),
        ("22395", None),  # a short code: never answered
        ("ACME", None),
        ("", None),
    ],
)
def test_a_sender_is_a_phone_number_or_nobody(raw, kept) -> None:
    assert inbox.sender_phone(raw, "US") == kept


def _listed(sid: str, direction: str, at: dt.datetime, body: str = "hi") -> ProviderMessage:
    return ProviderMessage(
        sid, "+15005550006", "+17185550101", body, "received", direction, at, at, None
    )


def test_what_was_missed_is_stored_once_oldest_first(session) -> None:
    inbox.store_inbound(
        session,
        sid="SM" + "1" * 32,
        sender="+17185550101",
        body="had it",
        region="US",
        max_body=100,
    )
    listing = [  # newest first, as Twilio lists them
        _listed("SM" + "3" * 32, "inbound", T0 + dt.timedelta(seconds=2), "third"),
        _listed("SM" + "9" * 32, "outbound-api", T0, "ours"),
        _listed("SM" + "2" * 32, "inbound", T0, "second"),
        _listed("SM" + "1" * 32, "inbound", T0, "had it"),
    ]
    new_ids = inbox.import_missed(session, listing, region="US", max_body=100)
    assert [session.get(Message, i).body for i in new_ids] == ["second", "third"]
    assert inbox.import_missed(session, listing, region="US", max_body=100) == []
    assert [m.body for m in _stored(session)] == ["had it", "second", "third"]


def test_recovery_asks_the_provider_since_a_time(session) -> None:
    asked = {}

    class Provider:
        def list_messages(self, **query):
            asked.update(query)
            return [_listed("SM" + "5" * 32, "inbound", T0)]

    new_ids = inbox.recover_missed(
        session, Provider(), to="+15005550006", since=T0, region="US", max_body=100
    )
    assert len(new_ids) == 1 and asked == {"to": "+15005550006", "date_sent_after": T0}
