"""WhatsApp through Twilio (#16 item 2): texts from ``whatsapp:+…`` senders go through the
same conversation engine as SMS, the person known by their number; replies go back on
WhatsApp; proposals, and anything more than 24 hours after the person's last WhatsApp
message, go as approved templates (the fake Twilio API fails a free-form one with 63016,
as WhatsApp does); STOP over WhatsApp stops everything. Signed webhooks in, the outbox
and the twilio client out, against the fake Twilio API."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path

import pytest
from sqlalchemy import select, update

from mutualaid.models import (
    AidRequest,
    Channel,
    Match,
    Message,
    MessageDirection,
    MessageStatus,
    Person,
    Role,
)
from mutualaid.settings import CONFIG_DIR
from mutualaid.worker.jobs import expire_proposals, run_matching
from tests.fakes.twilio import DEFAULT_AUTH_TOKEN, FakeTwilio
from tests.sms_helpers import SERVICE_NUMBER, handle_received, phones_of, text, twilio_sender
from tests.web.dashboard_helpers import logged_in

ROSA, MARCUS = "+17185550101", "+17185550111"
WHATSAPP_SENDER = "+14155238886"
INBOUND = "http://localhost/sms/inbound"
PROPOSAL_SID = "HX" + "1" * 32
PROPOSAL_BODY = (
    "Can you help? {{1}}, {{2}} away near {{3}}, {{4}}. Reply YES {{5}} to take it or NO "
    "{{5}} to pass. More: {{6}}"
)
ACCEPTED_SID = "HX" + "2" * 32
ACCEPTED_BODY = "Thank you! Task {{1}}: {{2}} for {{3}} at {{4}}. {{5}} DONE {{1}} when finished."


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, object]:
    """WhatsApp on, with the proposal and the accepted volunteer's text approved in English
    (and nothing else: the rest goes by SMS outside the window)."""
    approved = (CONFIG_DIR / "whatsapp.toml").read_text()
    for key, sid in (("proposal", PROPOSAL_SID), ("accepted_volunteer", ACCEPTED_SID)):
        approved = re.sub(
            rf'(\[templates\.{key}\]\n(?:[^\n]*\n)*?)content_sid = \{{ en = "", es = "" \}}',
            rf'\1content_sid = {{ en = "{sid}" }}',
            approved,
        )
    assert PROPOSAL_SID in approved and ACCEPTED_SID in approved
    path = tmp_path / "whatsapp.toml"
    path.write_text(approved)
    return {
        "WHATSAPP_FROM": WHATSAPP_SENDER,
        "WHATSAPP_TEMPLATES_FILE": str(path),
        "TWILIO_AUTH_TOKEN": DEFAULT_AUTH_TOKEN,
        "PUBLIC_BASE_URL": "http://localhost",
    }


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


@pytest.fixture
def fake(client):
    """The fake Twilio API; its signed status callbacks reach /sms/status."""

    def callback(hook) -> int:
        return client.post(hook.path, data=hook.params, headers=hook.headers).status_code

    with FakeTwilio(callback_transport=callback) as fake:
        fake.approve_template(PROPOSAL_SID, PROPOSAL_BODY)
        fake.approve_template(ACCEPTED_SID, ACCEPTED_BODY)
        yield fake


@pytest.fixture
def phones(app, fake):
    """Send the outbox through the twilio client (SMS from the service's number, WhatsApp
    from the WhatsApp sender) to the fake Twilio API; the messages it created meanwhile."""
    with twilio_sender(fake, whatsapp_from=WHATSAPP_SENDER) as sender:
        send = phones_of(app, fake, sender)

        def run() -> list[dict]:
            before = len(fake.messages)
            send()
            return fake.messages[before:]

        yield run


@pytest.fixture
def whatsapp(app, client, fake):
    """A person writes to the service's WhatsApp sender: the signed webhook Twilio posts,
    then the worker handles it. ``ago`` backdates it (here and at the fake Twilio)."""

    def send(sender: str, body: str, *, ago: dt.timedelta | None = None) -> None:
        at = dt.datetime.now(dt.UTC) - ago if ago else None
        hook = fake.inbound_webhook(
            INBOUND, f"whatsapp:{sender}", f"whatsapp:{WHATSAPP_SENDER}", body, received_at=at
        )
        response = client.post(hook.path, data=hook.params, headers=hook.headers)
        assert response.status_code == 200
        if at is not None:
            sid = hook.params["MessageSid"]
            app.extensions["sqlalchemy"].session.execute(
                update(Message).where(Message.provider_sid == sid).values(created_at=at)
            )
            app.extensions["sqlalchemy"].session.commit()
        handle_received(app)

    return send


def _to(sent: list[dict], number: str) -> list[dict]:
    return [m for m in sent if m["to"] == number]


def test_a_need_by_whatsapp_is_a_request_answered_on_whatsapp(
    app, session, whatsapp, phones
) -> None:
    whatsapp(ROSA, "need groceries 11216")
    req = session.scalars(select(AidRequest)).one()
    assert req.channel is Channel.WHATSAPP and req.category == "groceries"
    # The person is their number, as if they had texted.
    person = session.scalars(select(Person)).one()
    assert person.phone == ROSA and req.requester_id == person.id

    sent = phones()
    notice, confirmed = _to(sent, f"whatsapp:{ROSA}")
    assert all(m["from"] == f"whatsapp:{WHATSAPP_SENDER}" for m in (notice, confirmed))
    assert "Reply HELP for help" in notice["body"] and "/privacy" in notice["body"]
    assert f"ref {req.ref}" in confirmed["body"] and confirmed["content_sid"] is None
    assert all(m["status"] == "queued" and m["error_code"] is None for m in sent)
    assert _to(sent, ROSA) == []  # nothing by SMS

    stored = session.scalars(select(Message).order_by(Message.id)).all()
    assert {m.channel for m in stored} == {"whatsapp"}
    assert all(m.segments is None for m in stored if m.direction is MessageDirection.OUTBOUND)

    # A coordinator's own text goes on WhatsApp too, within the 24 hours.
    coordinator = logged_in(app, session, Role.COORDINATOR)
    coordinator.post(f"/dashboard/people/{person.id}/message", data={"body": "Hi Rosa!"})
    (hello,) = phones()
    assert hello["to"] == f"whatsapp:{ROSA}" and hello["body"] == "Hi Rosa!"

    # The person's page says which channel each text went by.
    page = coordinator.get(f"/dashboard/people/{person.id}").get_data(as_text=True)
    assert page.count("<td>WhatsApp</td>") >= 4


def test_a_proposal_goes_as_an_approved_template_and_the_yes_comes_back_on_whatsapp(
    app, client, session, whatsapp, phones, fake
) -> None:
    whatsapp(MARCUS, "offer groceries 11216 3km", ago=dt.timedelta(hours=25))
    text(client, app, ROSA, "need groceries 11216")  # Rosa texts by SMS
    phones()
    run, _ = run_matching(app, trigger="test")
    assert run.proposed == 1

    (proposal,) = _to(phones(), f"whatsapp:{MARCUS}")
    assert proposal["content_sid"] == PROPOSAL_SID and proposal["status"] == "queued"
    variables = json.loads(proposal["content_variables"])
    code = variables["5"]
    assert variables["1"] == "Groceries" and re.fullmatch(r"\d{4}", code)
    assert variables["6"].startswith("http://localhost/t/")
    # What the phone shows: the approved wording with our values.
    assert proposal["body"].startswith("Can you help? Groceries, under 1 mile away near")
    assert f"Reply YES {code} to take it" in proposal["body"]

    whatsapp(MARCUS, f"YES {code}")
    sent = phones()
    (task,) = _to(sent, f"whatsapp:{MARCUS}")
    assert task["content_sid"] is None and f"Task {code}: Groceries" in task["body"]
    (told,) = _to(sent, ROSA)
    assert "a neighbour is coming" in told["body"] and told["from"] == SERVICE_NUMBER

    # A long relay: to Marcus on WhatsApp it goes whole (no segments there); from him to
    # Rosa by SMS it is too long to pass on, and he hears so on WhatsApp.
    long = ("The blue door next to the bakery, not the green one. " * 10)[:520]
    text(client, app, ROSA, long)
    (relayed,) = _to(phones(), f"whatsapp:{MARCUS}")
    assert relayed["body"].endswith(long[-30:].strip()) and relayed["content_sid"] is None
    whatsapp(MARCUS, long)
    sent = phones()
    assert _to(sent, ROSA) == []
    (kind,) = _to(sent, f"whatsapp:{MARCUS}")
    assert "too long to pass on" in kind["body"]


def test_outside_the_24_hours_templates_or_sms_never_free_form(
    app, client, session, whatsapp, phones, fake
) -> None:
    # WhatsApp itself fails free-form text outside the window (error 63016) ...
    with twilio_sender(fake, whatsapp_from=WHATSAPP_SENDER) as sender:
        refused = sender.send(f"whatsapp:{ROSA}", "Update on your request")
    assert fake.message(refused.provider_id)["status"] == "failed"
    assert fake.message(refused.provider_id)["error_code"] == 63016

    # ... so the service never sends one. Marcus last wrote 30 hours ago: his proposal
    # goes as its template; when it expires unanswered, the news has no approved template
    # here, so it goes by SMS to the same number.
    whatsapp(MARCUS, "offer groceries 11216 3km", ago=dt.timedelta(hours=30))
    text(client, app, ROSA, "need groceries 11216")
    phones()
    run_matching(app, trigger="test")
    (proposal,) = _to(phones(), f"whatsapp:{MARCUS}")
    assert proposal["content_sid"] == PROPOSAL_SID
    session.execute(update(Match).values(expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(1)))
    session.commit()
    assert expire_proposals(app) == 1
    sent = phones()
    (expired,) = _to(sent, MARCUS)
    assert "has gone to another neighbour" in expired["body"]
    assert expired["from"] == SERVICE_NUMBER and _to(sent, f"whatsapp:{MARCUS}") == []
    failed = [m for m in fake.messages if m["error_code"] == 63016]
    assert [m["sid"] for m in failed] == [refused.provider_id]


def test_stop_over_whatsapp_stops_everything_to_that_person(
    app, client, session, whatsapp, phones, fake
) -> None:
    whatsapp(MARCUS, "offer groceries 11216 3km")
    phones()
    whatsapp(MARCUS, "STOP")
    person = session.scalars(select(Person).where(Person.phone == MARCUS)).one()
    assert person.opted_out and person.consent_source == "whatsapp:STOP"
    # Twilio answers nothing on WhatsApp: the confirmation is ours, the last text they get.
    (stopped,) = _to(phones(), f"whatsapp:{MARCUS}")
    assert "unsubscribed" in stopped["body"]

    # Neither a proposal nor a coordinator's text, by WhatsApp or SMS.
    text(client, app, ROSA, "need groceries 11216")
    run, _ = run_matching(app, trigger="test")
    assert run.proposed == 0
    coordinator = logged_in(app, session, Role.COORDINATOR)
    coordinator.post(f"/dashboard/people/{person.id}/message", data={"body": "Are you OK?"})
    sent = phones()
    assert _to(sent, MARCUS) == [] and _to(sent, f"whatsapp:{MARCUS}") == []
    session.expire_all()
    queued = session.scalars(
        select(Message).where(
            Message.person_id == person.id, Message.direction == MessageDirection.OUTBOUND
        )
    ).all()
    assert [m.status for m in queued][-1] is MessageStatus.SUPPRESSED

    # START (on WhatsApp too) brings them back.
    whatsapp(MARCUS, "START")
    session.expire_all()
    assert not person.opted_out
    (back,) = _to(phones(), f"whatsapp:{MARCUS}")
    assert "welcome back" in back["body"]


@pytest.mark.parametrize(
    "sender",
    [
        "whatsapp:FREEMSG",
        "whatsapp:12345",
        "whatsapp:hello@example.org",
        "whatsapp:",
        "whatsapp:7185550101",  # not international: WhatsApp always sends +E164
        "messenger:+17185550101",
        "whatsapp:+1718555010",  # one digit short
    ],
)
def test_whatsapp_junk_is_refused_like_any_non_phone_sender(
    app, client, session, fake, sender
) -> None:
    hook = fake.inbound_webhook(INBOUND, sender, f"whatsapp:{WHATSAPP_SENDER}", "HELP")
    assert client.post(hook.path, data=hook.params, headers=hook.headers).status_code == 200
    handle_received(app)
    assert session.scalars(select(Message)).all() == []


def test_a_text_whatsapp_refuses_as_outside_the_window_goes_by_sms_instead(
    app, session, whatsapp, phones, fake
) -> None:
    whatsapp(ROSA, "need groceries 11216")
    # WhatsApp's clock says her message is older than ours does: it refuses our answers.
    fake.account.last_whatsapp[f"whatsapp:{ROSA}"] -= dt.timedelta(hours=25)
    sent = phones()
    assert [m["error_code"] for m in _to(sent, f"whatsapp:{ROSA}")] == [63016, 63016]
    # Each refusal comes back by status callback; the copies go on the next pass (or
    # already on this one, had the callbacks come first).
    sent += phones()
    session.expire_all()
    failed = session.scalars(
        select(Message).where(Message.status == MessageStatus.FAILED).order_by(Message.id)
    ).all()
    assert [(m.channel, m.error_code) for m in failed] == [("whatsapp", 63016)] * 2
    # The same texts, by SMS, once each.
    assert [m["body"] for m in _to(sent, ROSA)] == [m.body for m in failed]
    assert all(m["from"] == SERVICE_NUMBER for m in _to(sent, ROSA))
    assert phones() == []
