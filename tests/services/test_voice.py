"""The hotline's dialogue as a service (services.voice), without HTTP: the menu follows
LANGUAGES and the catalogues, stale and expired steps, what erasure leaves of a call."""

from __future__ import annotations

import dataclasses
import datetime as dt
import tomllib
from pathlib import Path

import pytest
from sqlalchemy import select

from mutualaid import adapters
from mutualaid.models import Call, Person, utcnow
from mutualaid.services import voice
from mutualaid.services.audit import Actor
from mutualaid.services.retention import erase_person
from sms.catalog import Catalogue
from tests.voice_helpers import new_call_sid, recording_url

CONFIG = Path(__file__).resolve().parents[2] / "config"
ROSA = "+17185550142"
HOTLINE = voice.Hotline(("en", "es"), "checkin")


@pytest.fixture
def ctx(app):
    return adapters.sms_context()


def said(script) -> list[str]:
    return [line.text for line in script.lines]


def ring(session, ctx, sid: str, hotline: voice.Hotline = HOTLINE):
    return voice.answer(session, ctx, call_sid=sid, caller=ROSA, hotline=hotline)


def press(session, ctx, sid: str, step: str, digits: str, hotline: voice.Hotline = HOTLINE):
    return voice.respond(
        session, ctx, call_sid=sid, caller=ROSA, step=step, digits=digits, hotline=hotline
    )


def test_a_one_language_network_asks_what_is_needed_first(session, ctx) -> None:
    script = ring(session, ctx, new_call_sid(), voice.Hotline(("es",), "checkin"))
    assert script.then == "gather" and script.step == "category"
    assert said(script)[0] == "¿Qué necesita?"


def test_a_third_language_is_one_catalogue_file(session, ctx) -> None:
    """A language is offered on the phone once its catalogue exists, spoken in its own
    voice_locale, with nothing in the code naming it."""
    tables = {}
    for lang in ("en", "es"):
        with (CONFIG / "messages" / f"{lang}.toml").open("rb") as f:
            tables[lang] = tomllib.load(f)
    french = {key: dict(entry) for key, entry in tables["en"].items()}
    french["voice_locale"]["text"] = "fr-fr"
    french["voice_language_option"]["text"] = "Pour le français, appuyez sur {digit}."
    french["voice_ask_category"]["text"] = "De quoi avez-vous besoin ?"
    ctx = dataclasses.replace(ctx, catalogue=Catalogue.from_tables({**tables, "fr": french}))
    hotline = voice.Hotline(("en", "es", "fr"), "checkin")
    sid = new_call_sid()

    script = ring(session, ctx, sid, hotline)
    assert "Pour le français, appuyez sur 3." in said(script)
    assert {"en-US", "es-MX", "fr-FR"} == {line.locale for line in script.lines}
    script = press(session, ctx, sid, "language", "3", hotline)
    assert said(script)[0] == "De quoi avez-vous besoin ?"
    assert {line.locale for line in script.lines} == {"fr-FR"}


def test_a_language_no_voice_speaks_is_left_out_of_the_menu(session, ctx) -> None:
    """Haitian Creole and Bengali have no Twilio <Say> voice (voice_locale "none"): the
    menu offers the network's other languages, and a caller who texts in Haitian Creole
    hears it in English first, never a "none" locale Twilio would refuse."""
    rosa = Person(phone=ROSA, language="ht")
    session.add(rosa)
    session.flush()
    hotline = voice.Hotline(("ht", "en", "bn", "es"), "checkin")
    sid = new_call_sid()

    script = ring(session, ctx, sid, hotline)
    assert said(script)[1:3] == ["For English, press 1.", "Para español, oprima 2."]
    assert {line.locale for line in script.lines} == {"en-US", "es-MX"}
    assert not any("kreyòl" in text or "বাংলা" in text for text in said(script))
    assert session.scalar(select(Call.language).where(Call.call_sid == sid)) == "en"

    only_unspoken = voice.Hotline(("ht", "bn"), "checkin")
    script = ring(session, ctx, new_call_sid(), only_unspoken)
    assert said(script)[0] == "What do you need?" and script.step == "category"
    assert {line.locale for line in script.lines} == {"en-US"}


def test_a_stale_answer_is_not_taken(session, ctx) -> None:
    """Twilio re-sends an action (or an old one arrives late): the call's own question is
    asked again, and nothing it says is read as the answer to another step."""
    sid = new_call_sid()
    ring(session, ctx, sid)
    press(session, ctx, sid, "language", "1")
    again = press(session, ctx, sid, "language", "2")  # the language step, re-sent
    assert again.step == "category" and said(again)[0] == "What do you need?"
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call.language == "en"


def test_an_expired_call_starts_again_and_forgets_what_was_pressed(session, ctx) -> None:
    sid = new_call_sid()
    ring(session, ctx, sid)
    press(session, ctx, sid, "language", "1")
    press(session, ctx, sid, "category", "3")
    session.commit()
    later = dataclasses.replace(ctx, now=ctx.now + ctx.conversation_ttl + dt.timedelta(seconds=1))

    assert voice.forget_expired(session, now=later.now) == 1
    session.expire_all()
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call.data == {} and call.step == "where"

    script = press(session, later, sid, "where", "11216")
    assert script.step == "language"  # from the first question, not "groceries near …"


def test_erasing_the_caller_removes_the_recording_link(app, session, ctx) -> None:
    sid = new_call_sid()
    ring(session, ctx, sid)
    voicemail = press(session, ctx, sid, "language", "0")
    assert voicemail.then == "record" and voicemail.recording_callback
    rec = f"RE{'1' * 32}"
    voice.respond(
        session,
        ctx,
        call_sid=sid,
        caller=ROSA,
        step="voicemail",
        recording=voice.Recording(rec, recording_url(rec), "12"),
        hotline=HOTLINE,
    )
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call.recording_url == recording_url(rec) and call.recording_seconds == 12
    assert call.outcome == "voicemail"

    erase_person(session, session.get(Person, call.person_id), actor=Actor.system())
    session.expire_all()
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call.recording_url is None and call.recording_sid is None


def test_a_status_callback_for_a_call_under_way_changes_nothing(session, ctx) -> None:
    sid = new_call_sid()
    ring(session, ctx, sid)
    for status in ("ringing", "in-progress", "queued", "", "bogus"):
        assert not voice.call_ended(
            session, ctx, call_sid=sid, caller=ROSA, status=status, hotline=HOTLINE
        )
    call = session.scalar(select(Call).where(Call.call_sid == sid))
    assert call.outcome is None and call.expires_at > utcnow()
