"""The segment budget at run time (#16 item 4): every text is counted before it is
queued and kept within its budget with real values — an accented name, a long detail, a
long relay — through the real sending path (outbox → the twilio client → the fake Twilio
API), reading what each phone receives."""

from __future__ import annotations

import functools
import re

import pytest
from sqlalchemy import select

from mutualaid.models import AidRequest, Message, MessageDirection, Person, Role
from mutualaid.worker.jobs import run_matching
from sms.segments import segments
from tests.fakes.twilio import FakeTwilio
from tests.sms_helpers import phones_of, text, twilio_sender
from tests.web.dashboard_helpers import logged_in

ROSA, MARCUS, ANA = "+17185550101", "+17185550111", "+17185550122"
# Where the service runs (the test client's host: webhooks are signed for it too).
BASE = "http://localhost"
LONG_DETAIL = (
    "Milk, eggs, brown rice, two loaves of bread, bananas and the yoghurt she likes; "
    "she will pay you back in cash at the door. Ring twice, the bell is slow, and please "
    "leave the bags inside by the stairs because her knee is bad this week."
)


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"PUBLIC_BASE_URL": BASE}


pytestmark = pytest.mark.usefixtures("gazetteer_loaded")


@pytest.fixture
def phones(app):
    """``phones()`` sends the outbox through the twilio client to the fake Twilio API and
    returns the texts the phones received, as (to, body)."""
    with FakeTwilio() as fake, twilio_sender(fake) as sender:
        run = phones_of(app, fake, sender)
        run.fake = fake  # type: ignore[attr-defined]
        yield run


def _to(sent: list[tuple[str, str]], phone: str) -> list[str]:
    return [body for to, body in sent if to == phone]


@pytest.fixture
def accepted(app, client, session, phones):
    return functools.partial(_accepted, app, client, session, phones)


def _accepted(
    app,
    client,
    session,
    phones,
    *,
    volunteer: str,
    requester_name: str,
    need: str,
    offer: str = "offer groceries 11216 3km",
    yes: str = "yes",
):
    """A volunteer and a requester by SMS; the requester's name as a form would give it;
    the volunteer says YES. The texts each phone received at the YES."""
    text(client, app, volunteer, offer)
    text(client, app, ROSA, need)
    session.scalars(select(Person).where(Person.phone == ROSA)).one().name = requester_name
    session.commit()
    phones()
    run, _ = run_matching(app, trigger="test")
    assert run.proposed == 1
    phones()
    text(client, app, volunteer, yes)
    return phones()


def test_an_accented_name_and_a_long_detail_stay_within_the_budget(
    app, client, session, phones, accepted
) -> None:
    sent = accepted(
        volunteer=MARCUS,
        requester_name="Mónica Núñez",
        need=f"need groceries 11216. {LONG_DETAIL}",
    )
    (task,) = _to(sent, MARCUS)
    cost = segments(task)
    # "ó" makes it UCS-2: uncut it would be 6 segments; English allows 3 in UCS-2.
    assert cost.encoding == "UCS-2" and cost.count <= 3, (cost, task)
    match_code = re.search(r"Task (\d{4})", task).group(1)
    assert f"DONE {match_code}" in task and "Mónica Núñez" in task
    # The details are cut at a word with one "…", then the link to the whole task.
    link = re.search(rf"{re.escape(BASE)}/t/\S+", task).group(0)
    assert "need groceries 11216" in task and "her knee is bad" not in task
    assert re.search(r"\w… " + re.escape(link), task), task
    # The link opens the whole of it, for this volunteer.
    page = client.get(link.removeprefix(BASE))
    assert page.status_code == 200
    html = page.get_data(as_text=True)
    assert "her knee is bad this week" in html and "Mónica Núñez" in html
    assert ROSA[-4:] not in html
    # Every text that left was counted as it was queued, and the count is the real one.
    session.expire_all()
    for message in session.scalars(
        select(Message).where(Message.direction == MessageDirection.OUTBOUND)
    ):
        assert message.segments == segments(message.body).count, message.template
    # The figures page: segments sent per day and per message.
    figures = logged_in(app, session, Role.VIEWER).get("/dashboard/figures?days=2")
    html = figures.get_data(as_text=True)
    total = sum(segments(m["body"]).count for m in phones.fake.messages)
    assert f"{total} SMS segments in all" in html
    row = re.search(r"<code>accepted_volunteer</code></td><td>1</td><td>(\d)</td>", html)
    assert row and int(row.group(1)) == cost.count


def test_a_spanish_task_text_with_accents_stays_within_its_own_budget(
    app, client, session, phones, accepted
) -> None:
    sent = accepted(
        volunteer=ANA,
        requester_name="José Álvarez",
        need=f"necesito comida 11216. {LONG_DETAIL}",
        offer="ofrezco comida 11216 3km",
        yes="si",
    )
    (task,) = _to(sent, ANA)
    assert task.startswith("¡Gracias! Tarea")
    cost = segments(task)
    # Uncut, 7 segments; Spanish allows 4 in UCS-2.
    assert cost.count <= 4 and cost.encoding == "UCS-2", (cost, task)
    assert "José Álvarez" in task and f"{BASE}/t/" in task


def test_a_long_detail_in_plain_letters_stays_within_two_gsm7_segments(accepted) -> None:
    sent = accepted(
        volunteer=MARCUS, requester_name="Rosa", need=f"need groceries 11216. {LONG_DETAIL}"
    )
    (task,) = _to(sent, MARCUS)
    cost = segments(task)
    # Uncut it is 3 segments; English allows 2 in GSM-7. "..." costs 3 septets, not UCS-2.
    assert cost.encoding == "GSM-7" and cost.count == 2, (cost, task)
    assert re.search(r"\w\.\.\. " + re.escape(BASE) + r"/t/\S+ Text here", task), task


def test_a_short_task_text_is_sent_whole_without_a_link(accepted) -> None:
    sent = accepted(
        volunteer=MARCUS,
        requester_name="Rosa",
        need="need groceries 11216, I use a wheelchair",
    )
    (task,) = _to(sent, MARCUS)
    assert "I use a wheelchair" in task and "/t/" not in task and "…" not in task
    assert segments(task).count <= 2


def test_a_long_relay_is_refused_kindly_and_a_shorter_one_goes_whole(
    app, client, session, phones, accepted
) -> None:
    accepted(volunteer=MARCUS, requester_name="Rosa", need="need groceries 11216")
    # 1,500 characters: 10 segments. Not passed on; Rosa hears why and how long is fine.
    long = ("The blue door next to the bakery, not the green one. " * 30)[:1500]
    text(client, app, ROSA, long)
    sent = phones()
    assert _to(sent, MARCUS) == []
    (kind,) = _to(sent, ROSA)
    assert "too long" in kind and "1500 characters" in kind and "shorter texts" in kind
    limit = int(re.search(r"at most (\d+)", kind).group(1))
    assert 380 <= limit <= 459

    # Within the limit it goes whole, as one text; an iPhone's curly apostrophe and dash
    # are written the GSM-7 way, so they do not double its cost.
    shorter = long[: limit - 10].replace("not the", "it\u2019s not \u2013 the", 1)
    text(client, app, ROSA, shorter)
    (relayed,) = _to(phones(), MARCUS)
    assert relayed.startswith("Rosa (task ") and relayed.endswith(shorter[-20:].strip())
    assert "it's not - the" in relayed
    cost = segments(relayed)
    assert cost.encoding == "GSM-7" and cost.count <= 3


def test_an_accented_long_relay_is_measured_in_ucs2(app, client, session, phones, accepted) -> None:
    accepted(volunteer=MARCUS, requester_name="Rosa", need="need groceries 11216")
    # 300 characters with one "á": UCS-2, 5 segments, over the maximum of 3.
    accented = ("Está bien. " + "The blue door next to the bakery. " * 9)[:300]
    text(client, app, ROSA, accented)
    sent = phones()
    assert _to(sent, MARCUS) == []
    (kind,) = _to(sent, ROSA)
    limit = int(re.search(r"at most (\d+)", kind).group(1))
    assert limit < 201  # three UCS-2 segments, less the "Rosa (task 1234): " prefix


def test_the_first_text_still_carries_the_carrier_notice_and_privacy_link(
    app, client, session, phones
) -> None:
    text(client, app, ROSA, "need groceries 11216")
    first, answer = _to(phones(), ROSA)
    assert "Msg & data rates may apply" in first and f"{BASE}/privacy" in first
    assert "Your request for Groceries is in" in answer
    req = session.scalars(select(AidRequest)).one()
    assert req.ref in answer
