"""Item 7: a captured webhook cannot be replayed as new, and a sender that is not a phone
number gets nothing from us."""

from __future__ import annotations

import uuid

from sqlalchemy import func, select

from mutualaid.adapters import sms_auth_token
from mutualaid.models import Message, MessageDirection
from sms.signature import compute_signature
from tests.abuse.helpers import ROSA, bodies_to
from tests.sms_helpers import SERVICE_NUMBER, handle_received


def _inbound(session) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.direction == MessageDirection.INBOUND)
    )


def test_a_captured_webhook_recut_to_a_new_sid_is_not_stored_again(app, client, session) -> None:
    """Twilio signs key+value pairs with no separator: "MessageSid=SMx" + "NumMedia=0" reads
    the same as "MessageSid=SMxNumMedia0" without NumMedia. The attacker re-sends the
    captured request so cut, with the captured signature."""
    sid = f"SM{uuid.uuid4().hex}"
    captured = {
        "AccountSid": "AC" + "0" * 32,
        "Body": "CANCEL",
        "From": ROSA,
        "MessageSid": sid,
        "NumMedia": "0",
        "To": SERVICE_NUMBER,
    }
    url = "http://localhost/sms/inbound"
    signature = compute_signature(sms_auth_token(app.config), url, captured)
    assert (
        client.post(
            "/sms/inbound", data=captured, headers={"X-Twilio-Signature": signature}
        ).status_code
        == 200
    )
    assert _inbound(session) == 1

    recut = {k: v for k, v in captured.items() if k != "NumMedia"}
    recut["MessageSid"] = sid + "NumMedia0"
    assert compute_signature(sms_auth_token(app.config), url, recut) == signature  # still valid
    response = client.post("/sms/inbound", data=recut, headers={"X-Twilio-Signature": signature})

    assert response.status_code < 500
    assert _inbound(session) == 1


def test_a_sender_that_is_not_a_phone_number_gets_no_reply(app, client, session) -> None:
    # WhatsApp is off here (WHATSAPP_FROM empty): a whatsapp: sender is refused too.
    for sender in ("FREEMSG", "12345", "hello@example.org", "whatsapp:+17185550101"):
        params = {
            "MessageSid": f"SM{uuid.uuid4().hex}",
            "AccountSid": "AC" + "0" * 32,
            "From": sender,
            "To": SERVICE_NUMBER,
            "Body": "HELP",
        }
        url = "http://localhost/sms/inbound"
        signature = compute_signature(sms_auth_token(app.config), url, params)
        response = client.post(
            "/sms/inbound", data=params, headers={"X-Twilio-Signature": signature}
        )
        assert response.status_code == 200  # Twilio is answered, so it does not retry
    handle_received(app)
    outbound = session.scalars(
        select(Message).where(Message.direction == MessageDirection.OUTBOUND)
    ).all()
    assert outbound == []
    assert bodies_to(session, ROSA) == []
