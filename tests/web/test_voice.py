"""The voice hotline through its signed webhooks, as Twilio drives a call: from ring to a
stored request, to a voicemail (0, or not understood twice), a missed or abandoned call's
one follow-up text through the fake Twilio API, bad signatures and hostile input — on
SQLite and PostgreSQL."""

from __future__ import annotations

import logging
import re

import pytest
from sqlalchemy import func, select

from mutualaid.adapters import sms_auth_token
from mutualaid.models import AidRequest, AuditEvent, Call, Channel, Person, Precision, Role
from mutualaid.services.sending import OutboxSettings, send_due
from mutualaid.services.voice import VOICEMAIL_FLAG
from mutualaid.unit_of_work import transaction
from sms.signature import compute_signature
from sms.transport import TwilioSender
from tests.fakes.twilio import FakeTwilio
from tests.sms_helpers import SERVICE_NUMBER, outbox, replies
from tests.voice_helpers import ACCOUNT, Caller, Heard, new_call_sid
from tests.web.dashboard_helpers import logged_in

ROSA = "+17185550142"
pytestmark = pytest.mark.timeout(60)


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"SMS_BACKEND": "fake"}


def requests_of(session, phone: str = ROSA) -> list[AidRequest]:
    session.expire_all()
    person = session.scalar(select(Person).where(Person.phone == phone))
    if person is None:
        return []
    return list(
        session.scalars(
            select(AidRequest).where(AidRequest.requester_id == person.id).order_by(AidRequest.id)
        )
    )


def test_a_call_from_ring_to_a_stored_request(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)

    heard = rosa.ring()
    assert heard.status == 200
    assert heard.said[0].startswith("Welcome to ")
    assert "For English, press 1." in heard.said
    assert "Para español, oprima 2." in heard.said  # each language offered in its own
    assert {"en-US", "es-MX"} <= heard.locales
    assert heard.gather is not None and heard.gather.get("input") == "dtmf"

    heard = rosa.press("1")
    assert heard.said[0] == "What do you need?"
    assert "For Groceries, press 1." in heard.said
    assert "For Pharmacy pickup, press 3." in heard.said
    assert heard.said[-1] == "To leave a message for a coordinator, press 0."

    heard = rosa.press("1")
    assert "ZIP code" in heard.text
    assert heard.gather is not None and heard.gather.get("numDigits") == "5"

    heard = rosa.press("11216")
    assert heard.said == [
        "You need Groceries near 1 1 2 1 6. Press 1 to confirm, 2 to start again."
    ]

    heard = rosa.press("1")
    assert heard.hangs_up
    [req] = requests_of(session)
    assert f"Your request number is {' '.join(req.ref)}." in heard.text
    assert "We will text you at this number" in heard.text
    # The same request a text would create, from the caller's number.
    assert (req.category, req.channel, req.language) == ("groceries", Channel.VOICE, "en")
    assert req.location_precision is Precision.POSTCODE and req.location_text == "11216"
    assert req.status.value == "open" and not req.flagged
    created = session.scalar(
        select(AuditEvent).where(
            AuditEvent.action == "request.created", AuditEvent.subject_id == req.id
        )
    )
    assert created.detail["channel"] == "voice"
    assert created.detail["verified"] == "called from the number"
    # From now on it goes by text: the reference, in writing.
    assert replies(session, ROSA) == ["need_confirmed"]
    assert req.ref in outbox(session, ROSA)[-1].body

    rosa.hang_up("completed")
    assert replies(session, ROSA) == ["need_confirmed"]  # no "we missed you" after that


def test_in_spanish_with_a_fresh_start_before_confirming(app, client, session) -> None:
    ana = Caller(client, app, ROSA)
    ana.ring()
    heard = ana.press("2")
    assert heard.said[0] == "¿Qué necesita?"
    assert heard.locales == {"es-MX"}
    assert "Para Comidas calientes, oprima 2." in heard.said
    ana.press("2")
    heard = ana.press("11216")
    assert heard.said == [
        "Necesita Comidas calientes cerca de 1 1 2 1 6. "
        "Oprima 1 para confirmar, 2 para empezar de nuevo."
    ]
    heard = ana.press("2")  # start again: what she needs, in her language
    assert heard.said[0] == "¿Qué necesita?"
    ana.press("3")
    ana.press("11216")
    heard = ana.press("1")
    assert "Su número de pedido es" in heard.text
    [req] = requests_of(session)
    assert (req.category, req.language) == ("pharmacy", "es")
    assert outbox(session, ROSA)[-1].body.startswith("Gracias.")


def test_a_place_said_aloud_is_stored_for_a_coordinator_to_hear(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    rosa.press("1")
    rosa.press("1")
    heard = rosa.press("*")
    assert heard.record is not None and "say where you are" in heard.text
    heard, recording = rosa.speak()
    assert heard.said == [
        "You need Groceries near the place you told us. Press 1 to confirm, 2 to start again."
    ]
    rosa.press("1")
    [req] = requests_of(session)
    assert req.needs_location and req.flag_reason == "needs location"
    assert replies(session, ROSA) == ["need_no_location_stored"]

    page = logged_in(app, session, Role.COORDINATOR).get(f"/dashboard/requests/{req.id}")
    assert recording in page.get_data(as_text=True)


def test_pressing_0_leaves_a_voicemail_a_coordinator_sees(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    heard = rosa.press("0")
    assert heard.record is not None
    assert "leave a message after the tone" in heard.text
    assert heard.record.get("recordingStatusCallback") == "/voice/recording"
    heard, recording = rosa.speak(seconds=42)
    assert heard.hangs_up and "A coordinator will call you back" in heard.text

    [req] = requests_of(session)
    assert req.flagged and req.flag_reason == VOICEMAIL_FLAG
    assert req.channel is Channel.VOICE and req.needs_location  # not matched before a callback
    # Twilio's recording callback, twice: still one request, one recording.
    assert rosa.recording_ready(recording, seconds=42).status == 200
    assert rosa.recording_ready(recording, seconds=42).status == 200
    assert len(requests_of(session)) == 1
    rosa.hang_up()
    assert replies(session, ROSA) == []  # a voicemail is not a missed call

    coordinator = logged_in(app, session, Role.COORDINATOR)
    page = coordinator.get(f"/dashboard/requests/{req.id}").get_data(as_text=True)
    assert "voicemail: call them back" in page
    twilio = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT}/Recordings/{recording}"
    assert f'href="{twilio}"' in page
    assert "(42 s)" in page
    overview = coordinator.get("/dashboard/").get_data(as_text=True)
    assert req.ref in overview
    en_espanol = coordinator.get(f"/dashboard/requests/{req.id}?lang=es").get_data(as_text=True)
    assert "Aviso: buzón de voz: devolver la llamada" in en_espanol  # the flag's reason
    assert "dejó un mensaje de voz" in en_espanol  # the request's history
    # A viewer sees that there was a call, never the recording.
    viewer = logged_in(app, session, Role.VIEWER).get(f"/dashboard/requests/{req.id}")
    assert viewer.status_code == 200
    assert recording not in viewer.get_data(as_text=True)


def test_not_understood_twice_becomes_a_voicemail(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    rosa.press("1")
    heard = rosa.press("9")  # there is no ninth category
    assert heard.said[0] == "Sorry, I did not understand."
    assert heard.said[1] == "What do you need?"  # asked once more
    heard = rosa.press("")  # silence
    assert heard.record is not None and "leave a message after the tone" in heard.text
    # She hangs up without a word after the beep: Twilio has no recording to post, and
    # the call ends. A coordinator still calls her back.
    rosa.hang_up("completed")
    [req] = requests_of(session)
    assert req.flag_reason == VOICEMAIL_FLAG and req.category == "checkin"
    assert replies(session, ROSA) == []


def test_a_zip_we_cannot_place_is_asked_again_then_voicemail(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    rosa.press("1")
    rosa.press("3")
    heard = rosa.press("00000")
    assert heard.said[0] == "Sorry, I did not understand." and "ZIP code" in heard.text
    heard = rosa.press("99999")
    assert heard.record is not None
    heard, _ = rosa.speak()
    [req] = requests_of(session)
    # What she chose is kept; the place she did not confirm is not.
    assert req.category == "pharmacy" and req.needs_location


def test_silence_after_the_beep_twice_becomes_a_voicemail(app, client, session) -> None:
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    rosa.press("1")
    rosa.press("1")
    rosa.press("*")
    # Nothing said: Twilio skips the action and follows the Redirect after <Record>.
    heard = rosa.press("")
    assert heard.said[0] == "Sorry, I did not understand." and "ZIP code" in heard.text
    rosa.press("*")
    heard = rosa.press("")
    assert heard.record is not None and "leave a message after the tone" in heard.text


def fake_twilio_sends(app, fake: FakeTwilio) -> None:
    """The worker's pass over the outbox, through the real twilio client to the fake."""
    with TwilioSender(
        fake.account_sid,
        fake.auth_token,
        from_number=SERVICE_NUMBER,
        api_base_url=fake.base_url,
        connect_timeout=2,
        read_timeout=2,
    ) as sender:
        while send_due(transaction, sender, OutboxSettings.from_config(app.config)).claimed:
            pass


@pytest.mark.parametrize("status", ["no-answer", "busy", "canceled", "failed"])
def test_a_missed_call_gets_one_follow_up_text(app, client, session, status) -> None:
    missed = Caller(client, app, ROSA)
    # Never answered (the webhook never ran): only the status callback, sent three times.
    for _ in range(3):
        assert missed.hang_up(status).status == 200
    with FakeTwilio(callback_transport=lambda webhook: 200) as fake:
        fake_twilio_sends(app, fake)
        to_rosa = [m for m in fake.messages if m["to"] == ROSA]
    follow_ups = [m for m in to_rosa if "sorry we missed your call" in m["body"]]
    assert len(follow_ups) == 1
    assert "text NEED + what + ZIP" in follow_ups[0]["body"]
    # Besides it, only the carriers' notice that precedes any number's first text.
    assert len(to_rosa) == 2


def test_hanging_up_before_confirming_gets_one_follow_up_in_her_language(
    app, client, session
) -> None:
    ana = Caller(client, app, ROSA)
    ana.ring()
    ana.press("2")
    ana.press("1")
    ana.hang_up("completed")
    ana.hang_up("completed")  # Twilio re-sends it
    assert replies(session, ROSA) == ["voice_missed"]
    assert outbox(session, ROSA)[0].body.endswith("o llame de nuevo.")
    assert requests_of(session) == []
    # Whatever the call still had is gone with it.
    session.expire_all()
    call = session.scalar(select(Call).where(Call.call_sid == ana.sid))
    assert call.outcome == "missed" and call.data == {}


def test_an_opted_out_number_is_not_texted_after_a_missed_call(app, client, session) -> None:
    session.add(Person(phone=ROSA, opted_out=True))
    session.commit()
    Caller(client, app, ROSA).hang_up("no-answer")
    with FakeTwilio(callback_transport=lambda webhook: 200) as fake:
        fake_twilio_sends(app, fake)
        assert [m for m in fake.messages if m["to"] == ROSA] == []


def test_an_opted_out_caller_still_asks_and_hears_how_to_get_texts(app, client, session):
    session.add(Person(phone=ROSA, opted_out=True, language="en"))
    session.commit()
    rosa = Caller(client, app, ROSA)
    rosa.ring()
    rosa.press("1")
    rosa.press("2")
    rosa.press("11216")
    heard = rosa.press("1")
    assert "text START to this number" in heard.text
    assert len(requests_of(session)) == 1


@pytest.mark.parametrize("path", ["/voice/inbound", "/voice/step?step=language",
                                  "/voice/recording", "/voice/status"])  # fmt: skip
def test_a_bad_signature_is_refused_and_nothing_is_stored(app, client, session, path) -> None:
    params = Caller(client, app, ROSA).params(CallStatus="no-answer")
    url = f"http://localhost{path}"
    forged = compute_signature("not-the-auth-token", url, params)
    for headers in ({"X-Twilio-Signature": forged}, {}):
        assert client.post(path, data=params, headers=headers).status_code == 403
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Call)) == 0
    assert session.scalar(select(func.count()).select_from(Person)) == 0


def _signed(client, app, path: str, params: dict[str, str]) -> Heard:
    url = f"http://localhost{path}"
    signature = compute_signature(sms_auth_token(app.config), url, params)
    response = client.post(path, data=params, headers={"X-Twilio-Signature": signature})
    return Heard(response.status_code, response.get_data(as_text=True))


HOSTILE = {
    "letters": {"Digits": "abc"},
    "huge digits": {"Digits": "1" * 50_000},
    "a NUL": {"Digits": "1\x00"},
    "negative": {"Digits": "-1"},
    "a giant number": {"Digits": "99999999999999999999999"},
    "no CallSid": {"CallSid": ""},
    "a re-cut CallSid": {"CallSid": new_call_sid() + "Digits1"},
    "no caller id": {"From": "Anonymous"},
    "a caller of junk": {"From": "+1\x00" + "9" * 5000},
    "a step that is not one": {"step": "../../admin"},
    "a recording not Twilio's": {
        "RecordingSid": "RE" + "0" * 32,
        "RecordingUrl": "https://evil.example.org/x.mp3",
    },
}


@pytest.mark.parametrize("case", list(HOSTILE), ids=list(HOSTILE))
def test_hostile_input_gets_a_kind_answer_never_an_error(app, client, session, case) -> None:
    rosa = Caller(client, app, ROSA)
    assert rosa.ring().status == 200
    rosa.press("1")
    extra = dict(HOSTILE[case])
    step = extra.pop("step", "category")
    params = rosa.params(**extra)
    for path in (f"/voice/step?step={step}", "/voice/inbound", "/voice/recording"):
        heard = _signed(client, app, path, params)
        assert heard.status == 200, (path, heard.xml[:300])
        assert heard.root.tag == "Response"  # well-formed TwiML
        if path != "/voice/recording":
            assert heard.said, heard.xml  # the caller hears something
            assert all("rror" not in said for said in heard.said)
    assert _signed(client, app, "/voice/status", params).status == 200


def test_no_caller_id_is_told_why_in_every_language(app, client, session) -> None:
    heard = Caller(client, app, "Anonymous").ring()
    assert heard.hangs_up
    assert heard.locales == {"en-US", "es-MX"}
    assert "cannot see the number you are calling from" in heard.text


def test_the_callers_number_reaches_no_log_line(app, client, session, caplog) -> None:
    sql = logging.getLogger("sqlalchemy.engine")
    old = sql.level
    sql.setLevel(logging.INFO)
    try:
        with caplog.at_level(logging.DEBUG):
            rosa = Caller(client, app, ROSA)
            rosa.ring()
            rosa.press("1")
            rosa.press("0")
            rosa.speak()
            Caller(client, app, ROSA).hang_up("busy")
    finally:
        sql.setLevel(old)
    assert len(caplog.records) > 10
    digits = ROSA[-10:]
    for record in caplog.records:
        assert digits not in re.sub(r"\D", "", record.getMessage()), record.getMessage()[:300]


def test_a_failure_of_ours_still_sounds_kind(app, client, session, monkeypatch) -> None:
    """Not Twilio's "an application error has occurred": our sorry instead."""
    from mutualaid.services import voice

    def broken(*args, **kwargs):
        raise RuntimeError("the database went away")

    rosa = Caller(client, app, ROSA)
    rosa.ring()
    monkeypatch.setattr(voice, "respond", broken)
    monkeypatch.setitem(app.config, "PROPAGATE_EXCEPTIONS", False)
    heard = rosa.press("1")
    assert heard.status == 200 and heard.hangs_up
    assert heard.said == [
        "Sorry, something went wrong with this call. Please call again, or text us. Goodbye."
    ]
