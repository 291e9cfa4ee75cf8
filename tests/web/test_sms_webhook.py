"""The inbound SMS webhook: signatures, exactly-once storage, hostile bodies, proxies."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import func, select

from mutualaid.models import Message, MessageDirection, MessageStatus, Person
from tests.sms_helpers import SERVICE_NUMBER, outbox, signed_post, text

ROSA = "+17185550101"


def _inbound_count(session) -> int:
    session.expire_all()
    return session.scalar(
        select(func.count())
        .select_from(Message)
        .where(Message.direction == MessageDirection.INBOUND)
    )


def test_a_signed_text_is_stored_processed_and_answered_with_twiml(app, client, session) -> None:
    response = text(client, app, ROSA, "HELP")
    assert response.status_code == 200
    assert response.mimetype == "text/xml"
    assert response.get_data(as_text=True).endswith("<Response/>")
    (inbound,) = session.scalars(select(Message).where(Message.direction == "inbound"))
    assert inbound.status is MessageStatus.PROCESSED
    assert inbound.phone == ROSA and inbound.body == "HELP"
    assert inbound.person_id is not None
    (reply,) = outbox(session, ROSA)
    assert reply.template == "help" and reply.status is MessageStatus.QUEUED
    assert "NEED" in reply.body


def test_a_retry_of_the_same_message_sid_changes_nothing(app, client, session) -> None:
    sid = f"SM{uuid.uuid4().hex}"
    first = text(client, app, ROSA, "need groceries 11216", MessageSid=sid)
    again = text(client, app, ROSA, "need groceries 11216", MessageSid=sid)
    assert first.status_code == again.status_code == 200
    assert again.get_data(as_text=True).endswith("<Response/>")
    assert _inbound_count(session) == 1
    assert len(outbox(session, ROSA)) == 1  # one confirmation, not two


def test_concurrent_duplicates_store_one_row(app, session) -> None:
    sid = f"SM{uuid.uuid4().hex}"
    barrier = threading.Barrier(6)
    statuses: list[int] = []

    def deliver() -> None:
        client = app.test_client()
        barrier.wait()
        with app.app_context():
            statuses.append(
                text(client, app, ROSA, "need groceries 11216", MessageSid=sid).status_code
            )

    threads = [threading.Thread(target=deliver) for _ in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert statuses == [200] * 6
    assert _inbound_count(session) == 1
    assert len(outbox(session, ROSA)) == 1


@pytest.mark.parametrize(
    "tamper",
    ["unsigned", "forged", "body changed", "other url", "other token"],
)
def test_forged_unsigned_and_tampered_requests_are_refused(app, client, session, tamper) -> None:
    params = {"MessageSid": "SM" + "1" * 32, "From": ROSA, "To": SERVICE_NUMBER, "Body": "STOP"}
    if tamper == "unsigned":
        response = client.post("/sms/inbound", data=params)
    elif tamper == "forged":
        response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": "AAAA"})
    elif tamper == "body changed":
        from mutualaid.adapters import sms_auth_token
        from sms.signature import compute_signature

        sig = compute_signature(sms_auth_token(app.config), "http://localhost/sms/inbound", params)
        response = client.post(
            "/sms/inbound", data={**params, "Body": "CANCEL"}, headers={"X-Twilio-Signature": sig}
        )
    elif tamper == "other url":
        response = signed_post(
            client, app, "/sms/inbound", params, url="http://evil.example/sms/inbound"
        )
    else:
        from sms.signature import compute_signature

        sig = compute_signature("not-our-token", "http://localhost/sms/inbound", params)
        response = client.post("/sms/inbound", data=params, headers={"X-Twilio-Signature": sig})
    assert response.status_code == 403
    assert _inbound_count(session) == 0
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def test_status_callbacks_are_signature_checked_too(client) -> None:
    response = client.post("/sms/status", data={"MessageSid": "SM1", "MessageStatus": "delivered"})
    assert response.status_code == 403


class TestBehindAProxy:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"TRUSTED_PROXIES": 1}

    def test_the_forwarded_scheme_and_host_are_what_twilio_signed(self, app, client, session):
        params = {"MessageSid": "SM" + "2" * 32, "From": ROSA, "To": SERVICE_NUMBER, "Body": "HELP"}
        headers = {"X-Forwarded-Proto": "https", "X-Forwarded-Host": "aid.example.org"}
        ok = signed_post(
            client,
            app,
            "/sms/inbound",
            params,
            url="https://aid.example.org/sms/inbound",
            headers=headers,
        )
        assert ok.status_code == 200
        wrong = signed_post(
            client,
            app,
            "/sms/inbound",
            {**params, "MessageSid": "SM3"},
            url="http://localhost/sms/inbound",
            headers=headers,
        )
        assert wrong.status_code == 403
        assert _inbound_count(session) == 1


class TestWithAPublicBaseUrl:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"PUBLIC_BASE_URL": "https://aid.example.org"}

    def test_the_configured_url_is_used_and_forwarded_headers_ignored(self, app, client, session):
        params = {"MessageSid": "SM" + "4" * 32, "From": ROSA, "To": SERVICE_NUMBER, "Body": "HELP"}
        spoof = {"X-Forwarded-Proto": "http", "X-Forwarded-Host": "evil.example"}
        ok = signed_post(
            client,
            app,
            "/sms/inbound?x=a%20b",
            params,
            url="https://aid.example.org/sms/inbound?x=a%20b",
            headers=spoof,
        )
        assert ok.status_code == 200
        assert _inbound_count(session) == 1


@pytest.mark.parametrize(
    ("body", "extra"),
    [
        ("", {}),
        ("", {"NumMedia": "1", "MediaUrl0": "https://api.twilio.com/x.jpg"}),
        ("x" * 1600, {}),
        ("need " + "groceries " * 200, {}),
        ("necesito comida 🍎🥖 11216 🙏", {}),
        ("need\x00groceries\x0011216", {}),
        ("أحتاج طعام \u202e11216\u202c", {}),
        ("{{7*7}} <script>alert(1)</script> ' OR 1=1 --", {}),
        ("\ufffd\u200b\ufeff", {}),  # replacement char, zero-width space, BOM
        ("ЅТОР", {}),  # Cyrillic look-alikes
        ("YES 99999999999999999999", {}),
        ("offer rides 11216 99999999km", {}),
        ("%00%ff", {"NumMedia": "many"}),
    ],
)
def test_hostile_bodies_never_cause_a_server_error(app, client, session, body, extra) -> None:
    response = text(client, app, ROSA, body, **extra)
    assert response.status_code == 200, response.get_data(as_text=True)
    (inbound,) = session.scalars(select(Message).where(Message.direction == "inbound"))
    assert "\x00" not in inbound.body
    assert len(inbound.body) <= 1600
    assert inbound.status is MessageStatus.PROCESSED


def test_a_message_without_a_sid_is_refused(app, client, session) -> None:
    response = signed_post(client, app, "/sms/inbound", {"From": ROSA, "Body": "hi"})
    assert response.status_code == 400
    assert _inbound_count(session) == 0


def test_invalid_utf8_is_stored_readably(app, client, session) -> None:
    """Bytes that are not UTF-8 are stored as escapes, never a 500."""
    from mutualaid.adapters import sms_auth_token
    from sms.signature import compute_signature

    params = {"MessageSid": "SM" + "5" * 32, "From": ROSA, "To": SERVICE_NUMBER}
    signed = {**params, "Body": "need %FF%FE"}  # what Werkzeug makes of the bytes
    sig = compute_signature(sms_auth_token(app.config), "http://localhost/sms/inbound", signed)
    raw = "&".join(f"{k}={v}" for k, v in params.items()).replace("+", "%2B") + "&Body=need+%FF%FE"
    response = client.post(
        "/sms/inbound",
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": sig},
    )
    assert response.status_code == 200
    assert _inbound_count(session) == 1


@pytest.mark.parametrize(
    "sid",
    [
        "SM" + "1" * 31,
        "SM" + "1" * 33,
        "SM" + "A" * 32,  # Twilio's hex is lower-case
        "XX" + "1" * 32,
        "SM" + "1" * 32 + "NumMedia0",
        "SMdev" + "1" * 32,
    ],
)
def test_a_sid_not_of_twilios_shape_is_refused(app, client, session, sid) -> None:
    response = signed_post(
        client, app, "/sms/inbound", {"MessageSid": sid, "From": ROSA, "Body": "HELP"}
    )
    assert response.status_code == 400
    assert _inbound_count(session) == 0
    status = signed_post(client, app, "/sms/status", {"MessageSid": sid, "MessageStatus": "sent"})
    assert status.status_code == 400


def test_an_mms_sid_is_accepted(app, client, session) -> None:
    assert text(client, app, ROSA, "HELP", MessageSid="MM" + "ab" * 16).status_code == 200
    assert _inbound_count(session) == 1


@pytest.mark.parametrize("sender", ["FREEMSG", "12345", "", "whatsapp:", "+1"])
def test_a_sender_that_is_not_a_phone_number_is_not_stored_nor_answered(
    app, client, session, sender
) -> None:
    assert text(client, app, sender, "HELP").status_code == 200
    assert _inbound_count(session) == 0
    assert outbox(session) == []
