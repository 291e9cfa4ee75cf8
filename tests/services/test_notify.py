"""Telling people things: a catalogue message in the person's language, queued once per
intent, the carrier notice before a number's first text, and the SmsContext a boundary
builds from the settings."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from mutualaid.adapters import sms_context
from mutualaid.models import Message, MessageStatus
from mutualaid.services.notify import build_sms_context, say
from tests import builders


def test_a_message_is_rendered_in_the_persons_language_once(app, session) -> None:
    person = builders.person(session, language="es")
    ctx = sms_context()
    first = say(session, ctx, person, "help", dedupe_key="help:1")
    assert first is not None and first.status is MessageStatus.QUEUED
    # Links point where the service runs (PUBLIC_BASE_URL, else its host and port).
    privacy = ctx.catalogue.render("privacy_link", "es", url=f"{ctx.public_base_url}/privacy")
    assert first.body == ctx.catalogue.render(
        "help", "es", network=ctx.network_name, privacy=privacy
    )
    assert say(session, ctx, person, "help", dedupe_key="help:1") is None


def _queued(session, person) -> list[Message]:
    return list(
        session.scalars(select(Message).where(Message.person_id == person.id).order_by(Message.id))
    )


@pytest.mark.parametrize("language", ["en", "es"])
def test_the_first_text_to_a_new_number_carries_the_carrier_notice(app, session, language) -> None:
    person = builders.person(session, language=language)
    ctx = sms_context()
    say(session, ctx, person, "help", dedupe_key="help:1")
    say(session, ctx, person, "unknown", dedupe_key="unknown:1")
    notice, *answers = _queued(session, person)
    assert notice.template == "first_notice"
    assert [m.template for m in answers] == ["help", "unknown"]  # once, before the first
    words = {
        "en": ["Msg frequency varies", "rates may apply", "HELP", "STOP"],
        "es": ["Frecuencia variable", "tarifas", "AYUDA", "BAJA"],
    }[language]
    assert all(w in notice.body for w in words) and ctx.network_name in notice.body


def test_the_notice_and_help_link_the_privacy_page_when_there_is_a_public_address(
    app, session
) -> None:
    app.config["PUBLIC_BASE_URL"] = "https://aid.example.org"
    person = builders.person(session)
    say(session, sms_context(), person, "help")
    notice, help_ = _queued(session, person)
    assert "https://aid.example.org/privacy" in notice.body
    assert "https://aid.example.org/privacy" in help_.body


def test_a_stop_confirmation_comes_alone(app, session) -> None:
    person = builders.person(session)
    say(session, sms_context(), person, "stopped", even_if_opted_out=True)
    assert [m.template for m in _queued(session, person)] == ["stopped"]


def test_to_someone_who_opted_out_only_the_confirmation_goes(app, session) -> None:
    person = builders.person(session, opted_out=True, opted_out_at=dt.datetime.now(dt.UTC))
    ctx = sms_context()
    assert say(session, ctx, person, "help").status is MessageStatus.SUPPRESSED
    assert (
        say(session, ctx, person, "stopped", even_if_opted_out=True).status is MessageStatus.QUEUED
    )


def test_the_context_comes_from_the_settings(app, session) -> None:
    now = dt.datetime(2026, 11, 2, tzinfo=dt.UTC)
    ext = app.extensions
    ctx = build_sms_context(
        {**app.config, "PROPOSAL_TTL_MINUTES": 30, "CONVERSATION_TTL_MINUTES": 5},
        session,
        keywords=ext["sms_keywords"],
        catalogue=ext["sms_catalogue"],
        categories=ext["categories"],
        geocoder=None,
        now=now,
    )
    assert ctx.now == now and ctx.proposal_ttl == dt.timedelta(minutes=30)
    assert ctx.conversation_ttl == dt.timedelta(minutes=5)
    assert ctx.label("groceries", "es") == ext["categories"]["groceries"].label("es")
    assert ctx.label("unknown-thing", "es") == "unknown-thing"
    assert "groceries" in ctx.aliases["groceries"]
