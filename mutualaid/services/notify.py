"""Telling people things by text: render a catalogue message in their language, count it,
and queue it on their channel (SMS, or WhatsApp within its rules)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import func, select
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
from sms.whatsapp import WhatsAppTemplates, within_window

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
    # WhatsApp's approved templates when WhatsApp is on (WHATSAPP_FROM); None: SMS only.
    whatsapp: WhatsAppTemplates | None = None

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
    reply_to: Message | None = None,
    **values: Any,
) -> Message | None:
    """Queue catalogue message ``key`` to ``person`` in their language (None if this
    ``dedupe_key`` was already queued). The first text to a person is preceded by the
    carrier-required notice (``first_notice``). Never called for a person without a phone.

    The text is counted before it is queued and kept within its segment budget by the
    message's rule (sms.budget): a value cut to fit ends with ``more``, a link to the
    whole, when the rule says so.

    It goes on the channel of ``reply_to`` (the text it answers), else the one the person
    last wrote on: SMS, or WhatsApp — free-form within 24 hours of their last WhatsApp
    message, otherwise (and for a proposal) as its approved template (config/whatsapp.toml),
    and by SMS when it has none."""
    assert person.phone, "a person we text has a phone number"
    route = _route(session, ctx, person, reply_to)
    if key not in WITHOUT_NOTICE and not texted_before(session, person):
        _queue(session, ctx, person, "first_notice", f"first_notice:{person.id}", {}, route=route)
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
        route=route,
    )


@dataclass(frozen=True, slots=True)
class Route:
    """How a text reaches a person: its channel and, on WhatsApp, whether we are within
    24 hours of their last WhatsApp message."""

    channel: str = "sms"
    window_open: bool = False


SMS = Route()


def by_whatsapp_now(session: Session, ctx: SmsContext, person: Person) -> bool:
    """Whether a text to ``person`` now would go free-form on WhatsApp (no segments to
    count: it is neither cut nor refused for its length)."""
    route = _route(session, ctx, person, None)
    return route.channel == "whatsapp" and route.window_open


def _route(session: Session, ctx: SmsContext, person: Person, reply_to: Message | None) -> Route:
    if ctx.whatsapp is None:
        return SMS
    if reply_to is not None and reply_to.channel != "whatsapp":
        return SMS
    if reply_to is None and wrote_last_on(session, person) != "whatsapp":
        return SMS
    last = last_whatsapp(session, person)
    if reply_to is not None and (last is None or reply_to.created_at > last):
        last = reply_to.created_at
    return Route("whatsapp", within_window(last, ctx.now))


def wrote_last_on(session: Session, person: Person) -> str | None:
    """The channel of the person's latest text to us ("sms", "whatsapp"), None if none."""
    return session.scalar(
        select(Message.channel)
        .where(Message.person_id == person.id, Message.direction == MessageDirection.INBOUND)
        .order_by(Message.created_at.desc(), Message.id.desc())
        .limit(1)
    )


def last_whatsapp(session: Session, person: Person) -> dt.datetime | None:
    """When the person last wrote to us on WhatsApp (their 24-hour window starts there)."""
    return session.scalar(
        select(func.max(Message.created_at)).where(
            Message.person_id == person.id,
            Message.direction == MessageDirection.INBOUND,
            Message.channel == "whatsapp",
        )
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
    values = _with_defaults(ctx, person, template.placeholders, values)
    return fit(template, values, ctx.segment_rules[key], link=more)


def _with_defaults(
    ctx: SmsContext, person: Person, placeholders: frozenset[str], values: Mapping[str, Any]
) -> dict[str, Any]:
    """``values`` with the network's name and the privacy note where the message has them."""
    values = dict(values)
    if "network" in placeholders:
        values.setdefault("network", ctx.network_name)
    if "privacy" in placeholders and "privacy" not in values:
        values["privacy"] = privacy_note(ctx, person.language)
    return values


def _queue(
    session: Session,
    ctx: SmsContext,
    person: Person,
    key: str,
    dedupe_key: str | None,
    values: dict[str, Any],
    more: str | None = None,
    route: Route = SMS,
    **fields: Any,
) -> Message | None:
    assert person.phone
    if route.channel == "whatsapp" and ctx.whatsapp is not None:
        queued = _queue_whatsapp(session, ctx, person, key, dedupe_key, values, more, route, fields)
        if queued is not False:
            return queued
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


# A WhatsApp template's variable is one line; Meta refuses a template of more than 1024
# characters: a long value is cut (and, where its rule links, ends with the link).
MAX_TEMPLATE_VALUE = 300


def _queue_whatsapp(
    session: Session,
    ctx: SmsContext,
    person: Person,
    key: str,
    dedupe_key: str | None,
    values: dict[str, Any],
    more: str | None,
    route: Route,
    fields: dict[str, Any],
) -> Message | bool | None:
    """Queue ``key`` by WhatsApp: free-form in the window, else as its approved template.
    False when it has no template to go as (then it goes by SMS)."""
    assert ctx.whatsapp is not None and person.phone
    template = ctx.catalogue.template(key, person.language)
    values = {
        k: str(v) for k, v in _with_defaults(ctx, person, template.placeholders, values).items()
    }
    body = template.render(values)
    content: dict[str, str] = {}
    if key in ctx.whatsapp.always or not route.window_open:
        approved = ctx.whatsapp.get(key, ctx.catalogue.language(person.language))
        if approved is None:
            log.info("whatsapp %s: no approved template for outside the 24 hours: by SMS", key)
            return False
        link = ctx.segment_rules[key].link
        short = {
            name: _cut(value, more if name == link else None) for name, value in values.items()
        }
        content = {
            "content_sid": approved.content_sid,
            "content_variables": approved.content_variables(short),
        }
        body = template.render(short)
    return enqueue(
        session,
        phone=person.phone,
        body=body,
        person_id=person.id,
        dedupe_key=dedupe_key,
        template=key,
        channel="whatsapp",
        **content,
        **fields,
    )


def _cut(value: str, more: str | None) -> str:
    if len(value) <= MAX_TEMPLATE_VALUE:
        return value
    head = value[:MAX_TEMPLATE_VALUE].rsplit(" ", 1)[0].rstrip(" ,;:.-")
    return f"{head}…" + (f" {more}" if more else "")


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
    whatsapp: WhatsAppTemplates | None = None,
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
        whatsapp=whatsapp if config["WHATSAPP_FROM"] else None,
    )
