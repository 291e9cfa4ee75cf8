"""Telling people things by SMS: render a catalogue message in their language, queue it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Message, MessageDirection, Person
from mutualaid.services.catalogues import Category
from mutualaid.services.location import Resolver
from mutualaid.services.outbox import enqueue
from sms import distance
from sms.catalog import Catalogue
from sms.parse import Keywords


@dataclass(frozen=True)
class SmsContext:
    """What the SMS use cases need from the outside world, built at the boundary."""

    keywords: Keywords
    catalogue: Catalogue
    categories: Mapping[str, Category]
    resolver: Resolver
    network_name: str
    phone_region: str
    conversation_ttl: dt.timedelta
    public_base_url: str
    now: dt.datetime
    proposal_ttl: dt.timedelta = dt.timedelta(hours=1)
    # When the requester is asked "did you get what you needed?", and how long after
    # that their YES or NO is read as the answer.
    followup_after: dt.timedelta = dt.timedelta(hours=24)
    followup_window: dt.timedelta = dt.timedelta(days=3)
    # Whether the SMS provider itself answers STOP, START and the like (Twilio does); in
    # development on the console backend — `make run` and its simulator — nothing does, so
    # there the service answers them.
    provider_answers_keywords: bool = True

    @property
    def aliases(self) -> dict[str, list[str]]:
        return {key: [key, *c.aliases, *c.labels.values()] for key, c in self.categories.items()}

    def label(self, category: str, language: str) -> str:
        found = self.categories.get(category)
        return found.label(language) if found else category

    def distance(self, km: float | None, language: str) -> str:
        """``km`` as a person reads it: "under 1 km", "about 3 km", "about 2 miles" (miles
        where PHONE_REGION uses them), in ``language``."""
        if km is None:
            return "?"
        how, n, unit = distance.rounded(km, self.phone_region)
        words = self.catalogue.render(f"unit_{unit}", language)
        if how == "under":
            return self.catalogue.render("distance_under", language, unit=words)
        if unit == "km":
            return self.catalogue.render("distance_about_km", language, n=str(n))
        return self.catalogue.render("distance_about_miles", language, n=str(n), unit=words)

    def radius(self, km: float, language: str) -> str:
        """A volunteer's radius as they would say it: "3 km", "2 miles"."""
        value, unit = distance.radius(km, self.phone_region)
        return f"{value} {self.catalogue.render(f'unit_{unit}', language)}"


def say(
    session: Session,
    ctx: SmsContext,
    person: Person,
    key: str,
    *,
    dedupe_key: str | None = None,
    request_id: int | None = None,
    match_id: int | None = None,
    even_if_opted_out: bool = False,
    **values: Any,
) -> Message | None:
    """Queue catalogue message ``key`` to ``person`` in their language (None if this
    ``dedupe_key`` was already queued). The first text to a person is preceded by the
    carrier-required notice (``first_notice``). Never called for a person without a phone."""
    assert person.phone, "a person we text has a phone number"
    if key not in WITHOUT_NOTICE and not texted_before(session, person):
        _queue(session, ctx, person, "first_notice", f"first_notice:{person.id}", {})
    return _queue(
        session,
        ctx,
        person,
        key,
        dedupe_key,
        values,
        request_id=request_id,
        match_id=match_id,
        even_if_opted_out=even_if_opted_out,
    )


# The confirmation of a STOP is the last text a number gets: no notice before it.
WITHOUT_NOTICE = frozenset({"stopped", "first_notice"})


def texted_before(session: Session, person: Person) -> bool:
    """Whether anything was ever queued to this person (else their first text carries the
    carrier-required notice: who we are, frequency, rates, HELP, STOP)."""
    return (
        session.scalar(
            select(Message.id)
            .where(Message.person_id == person.id, Message.direction == MessageDirection.OUTBOUND)
            .limit(1)
        )
        is not None
    )


def privacy_note(ctx: SmsContext, language: str) -> str:
    """Where to read what we keep: the privacy page, or (without a public address) how to ask."""
    if ctx.public_base_url:
        url = f"{ctx.public_base_url}/privacy"
        return ctx.catalogue.render("privacy_link", language, url=url)
    return ctx.catalogue.render("privacy_ask", language)


def _queue(
    session: Session,
    ctx: SmsContext,
    person: Person,
    key: str,
    dedupe_key: str | None,
    values: dict[str, Any],
    **fields: Any,
) -> Message | None:
    assert person.phone
    placeholders = ctx.catalogue.template(key).placeholders
    if "network" in placeholders:
        values = {"network": ctx.network_name, **values}
    if "privacy" in placeholders and "privacy" not in values:
        values = {**values, "privacy": privacy_note(ctx, person.language)}
    body = ctx.catalogue.render(key, person.language, **values)
    return enqueue(
        session,
        phone=person.phone,
        body=body,
        person_id=person.id,
        dedupe_key=dedupe_key,
        template=key,
        **fields,
    )


def build_sms_context(
    config: Mapping[str, Any],
    session: Session,
    *,
    keywords: Keywords,
    catalogue: Catalogue,
    categories: Mapping[str, Category],
    geocoder: Any,
    now: dt.datetime,
    public_base_url: str | None = None,
) -> SmsContext:
    """The context of one request or job, from the settings and the loaded catalogues."""
    from mutualaid.services.location import Gazetteer

    return SmsContext(
        keywords=keywords,
        catalogue=catalogue,
        categories=categories,
        resolver=Resolver(Gazetteer.from_session(session), geocoder),
        network_name=config["NETWORK_NAME"],
        phone_region=config["PHONE_REGION"],
        conversation_ttl=dt.timedelta(minutes=config["CONVERSATION_TTL_MINUTES"]),
        # Where links sent by SMS point (PUBLIC_BASE_URL, else the service's host and port).
        public_base_url=public_base_url or config["PUBLIC_BASE_URL"],
        now=now,
        proposal_ttl=dt.timedelta(minutes=config["PROPOSAL_TTL_MINUTES"]),
        followup_after=dt.timedelta(hours=config["FOLLOWUP_HOURS"]),
        provider_answers_keywords=not (
            config["SMS_BACKEND"] == "console" and config["ENV"] == "development"
        ),
    )
