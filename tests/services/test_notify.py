"""Telling people things: a catalogue message in the person's language, queued once per
intent, and the SmsContext a boundary builds from the settings."""

from __future__ import annotations

import datetime as dt

from mutualaid.adapters import sms_context
from mutualaid.models import MessageStatus
from mutualaid.services.notify import build_sms_context, say
from tests import builders


def test_a_message_is_rendered_in_the_persons_language_once(app, session) -> None:
    person = builders.person(session, language="es")
    ctx = sms_context()
    first = say(session, ctx, person, "help", dedupe_key="help:1")
    assert first is not None and first.status is MessageStatus.QUEUED
    assert first.body == ctx.catalogue.render("help", "es", network=ctx.network_name)
    assert say(session, ctx, person, "help", dedupe_key="help:1") is None


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
