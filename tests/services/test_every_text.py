"""Every text in every state it can be sent in: each command a person can text (HELP,
STATUS, CANCEL, DONE, YES, NO, PAUSE, RESUME, HUMAN, STOP, START, something we cannot
read), in each state a person can be in (a stranger; a requester whose request is open,
matched, completed or cancelled; a volunteer available, paused, with a proposal waiting or
a task accepted), in every shipped language, through the signed webhook.

Each answer is fully rendered (no placeholder or "None" left), within its budget of SMS
segments, in the person's language, and the one that state calls for (STATUS on a closed
request offers no CANCEL; a paused volunteer is told how to resume). Together with the
journeys that send the others (named below, and checked to name them), every message of
the catalogue is sent somewhere in the suite."""

from __future__ import annotations

import itertools
import re
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from mutualaid.models import MatchStatus, Message, MessageDirection, RequestStatus
from mutualaid.services.conversations import TWILIO_HANDLED
from tests import builders
from tests.conftest import sqlite_copy
from tests.sms_helpers import text

ROOT = Path(__file__).resolve().parents[2]
CONFIG = ROOT / "config"
SHIPPED = sorted(p.stem for p in (CONFIG / "languages").glob("*.toml"))
CATALOGUES = {
    lang: tomllib.loads((CONFIG / "messages" / f"{lang}.toml").read_text()) for lang in SHIPPED
}
KEYWORDS = {
    lang: tomllib.loads((CONFIG / "keywords" / f"{lang}.toml").read_text()) for lang in SHIPPED
}
COMMANDS = ("help", "status", "cancel", "done", "yes", "no", "pause", "resume", "human")
STATES = (
    "stranger",
    "request_open",
    "request_matched",
    "request_completed",
    "request_cancelled",
    "volunteer",
    "volunteer_paused",
    "volunteer_proposed",
    "volunteer_accepted",
)
_numbers = itertools.count(1000)

# What each state answers, where the state decides (the rest: any answer that passes the
# checks below). The texts of issue #14: STATUS of a closed request offered CANCEL, and a
# paused volunteer's STATUS said "OFFER to volunteer" (and so, found here, did an available
# one's).
EXPECTED = {
    ("request_open", "status"): "status_requester",
    ("request_matched", "status"): "status_requester",
    ("request_completed", "status"): "status_requester_closed",
    ("request_cancelled", "status"): "status_requester_closed",
    ("volunteer", "status"): "status_available",
    ("volunteer_accepted", "status"): "status_volunteer",
    ("volunteer_paused", "status"): "status_paused",
    ("stranger", "status"): "status_none",
    ("request_open", "cancel"): "cancelled_requester",
    ("request_completed", "cancel"): "nothing_to_cancel",
    ("request_cancelled", "cancel"): "nothing_to_cancel",
    ("volunteer", "pause"): "paused",
    ("volunteer_paused", "resume"): "resumed",
    ("volunteer_proposed", "yes"): "accepted_volunteer",
    ("volunteer_proposed", "no"): "declined_ack",
    ("volunteer_accepted", "done"): "done_ack",
    ("volunteer", "yes"): "nothing_pending",
    ("stranger", "help"): "help",
    ("request_open", "human"): "human_ack",
}

# Sent by journeys this matrix does not walk: the test that sends each (it must name it).
ELSEWHERE = {
    "first_notice": "tests/services/test_notify.py",
    "privacy_link": "tests/services/test_notify.py",
    "rate_limited": "tests/web/test_rate_limits.py",
}


# Not sent alone, or checked by what the person reads or hears rather than by key: the
# family, and the test that shows it.
BY_CONTENT = {
    "request_state_": "tests/services/test_every_text.py",  # inside STATUS, checked here
    "when_": "tests/services/test_lifecycle.py",  # inside a proposal
    "distance_": "tests/services/test_texts.py",  # "under 1 km", "about 2 miles"
    "unit_": "tests/services/test_texts.py",
    "voice_": "tests/web/test_voice.py",  # spoken in the TwiML a caller hears
    "relay_": "tests/abuse/test_relays.py",
    "followup_": "tests/services/test_followups.py",
}


def keyword(lang: str, intent: str) -> str:
    """The first word a person of ``lang`` would text alone for ``intent``."""
    entry = KEYWORDS[lang]["intents"][intent]
    return (entry.get("alone") or entry["lead"])[0]


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"LANGUAGES": SHIPPED, "SMS_RATE_LIMIT": 10_000}


@pytest.fixture
def database_url(sqlite_template: Path, tmp_path: Path) -> str:
    """SQLite only: what a text says does not depend on the database (the journeys that
    store and race run on both)."""
    return sqlite_copy(sqlite_template, tmp_path)


def _put_in(session, state: str, lang: str) -> str:
    """A person of ``lang`` in ``state``; their phone number."""
    phone = f"+1646557{next(_numbers):04d}"
    if state == "stranger":
        return phone
    person = builders.person(session, phone=phone, language=lang, name="Ana")
    if state.startswith("request_"):
        req = builders.aid_request(session, requester=person, channel="sms")
        if state == "request_matched":
            req.status = RequestStatus.MATCHED
            builders.match(session, request=req, status=MatchStatus.ACCEPTED)
        elif state == "request_completed":
            req.status = RequestStatus.COMPLETED
        elif state == "request_cancelled":
            req.status = RequestStatus.CANCELLED
    else:
        offer = builders.offer(session, person=person, paused=state == "volunteer_paused")
        if state == "volunteer_proposed":
            builders.match(session, offer=offer, status=MatchStatus.PROPOSED)
        elif state == "volunteer_accepted":
            m = builders.match(session, offer=offer, status=MatchStatus.ACCEPTED)
            m.request.status = RequestStatus.MATCHED
    session.commit()
    return phone


def _answers(session, phone: str, after: int) -> list[Message]:
    return list(
        session.scalars(
            select(Message)
            .where(Message.direction == MessageDirection.OUTBOUND, Message.id > after)
            .where(Message.template.is_distinct_from("first_notice"))
            .order_by(Message.id)
        )
    )


def _catalogue_text(lang: str, key: str) -> str:
    return CATALOGUES[lang][key]["text"]


def _check(lang: str, state: str, command: str, answers: list[Message]) -> None:
    where = f"{lang} {state} {command}"
    assert answers, f"{where}: no answer"
    for m in answers:
        assert m.template, f"{where}: an answer without its message key: {m.body!r}"
        assert not re.search(r"[{}]|\bNone\b", m.body), f"{where}: {m.body!r}"
        budget = CATALOGUES[lang][m.template].get("segments")
        if m.segments is not None and budget is not None:
            ucs2 = CATALOGUES[lang][m.template].get("segments_ucs2", budget + 1)
            assert m.segments <= max(budget, ucs2), f"{where}: {m.segments} segments: {m.body!r}"


@pytest.mark.parametrize("state", STATES)
def test_every_command_in_every_state_in_every_language(app, client, session, state) -> None:
    sent: dict[tuple[str, str], list[Message]] = {}
    for lang in SHIPPED:
        for command in COMMANDS:
            phone = _put_in(session, state, lang)
            last = session.scalar(select(Message.id).order_by(Message.id.desc())) or 0
            assert text(client, app, phone, keyword(lang, command)).status_code == 200
            answers = _answers(session, phone, last)
            _check(lang, state, command, answers)
            sent[lang, command] = answers
            if (state, command) in EXPECTED:
                keys = [m.template for m in answers]
                assert EXPECTED[state, command] in keys, (lang, state, command, keys)
            if command == "status" and state.startswith("request_"):
                # The request's state, in the person's words for it.
                word = _catalogue_text(lang, f"request_state_{state.removeprefix('request_')}")
                assert any(word in m.body for m in answers), (lang, state, word)
    # In the person's language: where a language's text differs from English, so does what
    # they were sent (the same message, rendered in theirs).
    for (lang, command), answers in sent.items():
        english = {m.template: m.body for m in sent["en", command]}
        for m in answers:
            if lang == "en" or m.template not in english:
                continue
            if _catalogue_text(lang, m.template) != _catalogue_text("en", m.template):
                assert m.body != english[m.template], (lang, state, command, m.body)


def _ours(lang: str, intent: str) -> str:
    """A word of ``lang`` for ``intent`` that we answer (Twilio answers its own: STOP …)."""
    entry = KEYWORDS[lang]["intents"][intent]
    return next(w for w in entry["alone"] if w not in TWILIO_HANDLED)


def test_stop_start_and_what_we_cannot_read_are_answered_in_every_language(
    app, client, session
) -> None:
    for lang in SHIPPED:
        phone = _put_in(session, "request_open", lang)
        said = {}
        for word in (_ours(lang, "stop"), _ours(lang, "start"), "zzqx 123 qqq"):
            last = session.scalar(select(Message.id).order_by(Message.id.desc())) or 0
            text(client, app, phone, word)
            answers = _answers(session, phone, last)
            _check(lang, "request_open", word, answers)
            said[word] = [m.template for m in answers]
        assert said[_ours(lang, "stop")] == ["stopped"], (lang, said)
        assert "started" in said[_ours(lang, "start")], (lang, said)
        assert said["zzqx 123 qqq"], (lang, said)
        # Twilio's own words are Twilio's to answer: we add nothing.
        last = session.scalar(select(Message.id).order_by(Message.id.desc())) or 0
        text(client, app, phone, "STOP")
        assert _answers(session, phone, last) == [], lang


def test_every_message_is_sent_somewhere_in_the_suite() -> None:
    """The keys this module's matrix and the named journeys send cover the catalogue: a
    new message needs a test that sends it."""
    reached = set(EXPECTED.values()) | set(ELSEWHERE) | {"privacy_ask"}
    tests = {p: p.read_text() for p in (ROOT / "tests").rglob("test_*.py")}
    for key, path in ELSEWHERE.items():
        assert key in (ROOT / path).read_text(), f"{path} does not send {key}"
    missing = []
    for path in BY_CONTENT.values():
        assert (ROOT / path).exists(), path
    for key in CATALOGUES["en"]:
        if key in reached or key.startswith(tuple(BY_CONTENT)):
            continue
        # Sent by a journey test that names it (in an assertion, a helper call, a catalogue
        # lookup): any test file but this one.
        named = [p for p, src in tests.items() if p.name != Path(__file__).name and key in src]
        if not named:
            missing.append(key)
    assert missing == [], f"messages no test sends: {missing}"


def test_every_language_has_every_message() -> None:
    keys = set(CATALOGUES["en"])
    for lang in SHIPPED:
        assert set(CATALOGUES[lang]) == keys, lang


def test_without_a_public_address_the_privacy_note_says_how_to_ask(app) -> None:
    """privacy_ask: where no address of the service is known, the note appended to first
    texts tells how to ask what we keep, in the person's language, with no broken link."""
    import dataclasses

    from mutualaid.adapters import sms_context
    from mutualaid.services.notify import privacy_note

    ctx = dataclasses.replace(sms_context(app), public_base_url="")
    for lang in SHIPPED:
        note = privacy_note(ctx, lang)
        assert note == ctx.catalogue.render("privacy_ask", lang), lang
        assert note.strip() and "http" not in note and "{" not in note, (lang, note)
        with_link = privacy_note(
            dataclasses.replace(ctx, public_base_url="https://a.example"), lang
        )
        assert "https://a.example/privacy" in with_link, (lang, with_link)
