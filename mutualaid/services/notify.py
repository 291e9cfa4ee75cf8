"""Telling people things by SMS: render a catalogue message in their language, queue it."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Match, Message, MessageDirection, Person
from mutualaid.services.catalogues import Category
from mutualaid.services.links import proposal_link
from mutualaid.services.location import Resolver
from mutualaid.services.outbox import enqueue
from sms import distance
from sms.budget import Fitted, Rules, fit
from sms.catalog import Catalogue
from sms.parse import Keywords

log = logging.getLogger(__name__)


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
    # What gives way when a text would cost more segments than its budget
    # (config/segments.toml), and the most segments one relayed text may cost.
    segment_rules: Rules = field(default_factory=lambda: Rules({}))
    relay_max_segments: int = 3
    # Signs the links to a task's page (services.links); none without it.
    link_secret: str = ""

    def task_link(self, match: Match) -> str | None:
        """The volunteer's signed link to the whole of their task, where PUBLIC_BASE_URL
        points (None without an address or a secret to sign with)."""
        if not self.public_base_url or not self.link_secret:
            return None
        return proposal_link(self.public_base_url, self.link_secret, match)

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
    more: str | None = None,
    **values: Any,
) -> Message | None:
    """Queue catalogue message ``key`` to ``person`` in their language (None if this
    ``dedupe_key`` was already queued). The first text to a person is preceded by the
    carrier-required notice (``first_notice``). Never called for a person without a phone.

    The text is counted before it is queued and kept within its segment budget by the
    message's rule (sms.budget): a value cut to fit ends with ``more``, a link to the
    whole, when the rule says so."""
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
        more=more,
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


def measure(
    ctx: SmsContext, person: Person, key: str, values: Mapping[str, Any], more: str | None = None
) -> Fitted:
    """Message ``key`` to ``person`` as it would be queued: rendered in their language,
    counted, and shortened to its budget by its rule."""
    template = ctx.catalogue.template(key, person.language)
    if "network" in template.placeholders:
        values = {"network": ctx.network_name, **values}
    if "privacy" in template.placeholders and "privacy" not in values:
        values = {**values, "privacy": privacy_note(ctx, person.language)}
    return fit(template, values, ctx.segment_rules[key], link=more)


def _queue(
    session: Session,
    ctx: SmsContext,
    person: Person,
    key: str,
    dedupe_key: str | None,
    values: dict[str, Any],
    more: str | None = None,
    **fields: Any,
) -> Message | None:
    assert person.phone
    fitted = measure(ctx, person, key, values, more)
    if fitted.cut:
        log.info("sms %s: %s cut to fit %d segments", key, ", ".join(fitted.cut), fitted.budget)
    if fitted.over:
        log.warning(
            "sms %s (%s): %d segments (%s), over its budget of %d",
            key,
            ctx.catalogue.language(person.language),
            fitted.cost.count,
            fitted.cost.encoding,
            fitted.budget,
        )
    return enqueue(
        session,
        phone=person.phone,
        body=fitted.text,
        person_id=person.id,
        dedupe_key=dedupe_key,
        template=key,
        segments=fitted.cost.count,
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
    segment_rules: Rules | None = None,
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
        segment_rules=segment_rules or Rules({}),
        relay_max_segments=int(config["RELAY_MAX_SEGMENTS"]),
        link_secret=config["SECRET_KEY"],
    )
