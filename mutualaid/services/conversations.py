"""SMS conversations: one inbound text in, the right use case called, replies queued.

Keywords (STOP, START, HELP, CANCEL, STATUS …) work from any state. A question we asked
("what do you need?") waits CONVERSATION_TTL for its answer and is then forgotten, so a
stale question never captures a later text. Texts from one phone are handled one at a
time: the person's conversation row is locked for the transaction.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from mutualaid.db import insert_or_ignore
from mutualaid.models import (
    AidRequest,
    Channel,
    Conversation,
    Match,
    Message,
    Offer,
    Person,
    RequestStatus,
    Urgency,
)
from mutualaid.models.conversations import IDLE
from mutualaid.services import availability, confirmation, consent, flags, lifecycle, optin, threads
from mutualaid.services.audit import Actor, record
from mutualaid.services.intake import (
    NewOffer,
    NewRequest,
    create_request,
    find_or_create_person,
    place_request,
    save_offer,
)
from mutualaid.services.location import Location, find_street_address, fold
from mutualaid.services.notify import SmsContext, say
from sms.catalog import numbered
from sms.parse import Command, Intent, parse
from sms.text import clean

# Single words Twilio itself answers (opt-out and opt-in): our own confirmation would be
# a second one, so it is not sent for these exact bodies.
TWILIO_HANDLED = {"stop", "stopall", "unsubscribe", "cancel", "end", "quit", "start", "unstop"}
# A relay is free text; only a message that is clearly a command is read as one.
COMMAND_VIA = {"alone", "lead", "typo", "stop-rule", "choice"}
DEFAULT_RADIUS_KM = 3.0
# "si 1073" from an English-speaking volunteer is a yes, not a wish to read Spanish from now
# on: a short answer changes the language only of someone we do not know yet.
SHORT_ANSWERS = frozenset({Intent.YES, Intent.NO, Intent.DONE, Intent.CHOICE})


class Turn:
    """One inbound message being handled: the person, their conversation, their replies."""

    def __init__(self, session: Session, ctx: SmsContext, message: Message, person: Person):
        self.session, self.ctx, self.message, self.person = session, ctx, message, person
        self.conv = _locked_conversation(session, person.id)
        self._replies = 0

    # -- replies --------------------------------------------------------------------------

    def say(self, key: str, **values: Any) -> None:
        """Queue a reply; its dedupe key ties it to this inbound message, so handling the
        same message twice never sends twice."""
        self._replies += 1
        say(
            self.session,
            self.ctx,
            self.person,
            key,
            dedupe_key=f"reply:{self.message.id}:{self._replies}",
            even_if_opted_out=key == "stopped",
            reply_to=self.message,  # on the channel it came by
            **values,
        )

    def label(self, category: str) -> str:
        return self.ctx.label(category, self.person.language)

    # -- conversation state ---------------------------------------------------------------

    def ask(self, state: str, **data: Any) -> None:
        self.conv.state = state
        self.conv.data = data
        self.conv.expires_at = self.ctx.now + self.ctx.conversation_ttl

    def forget(self) -> None:
        self.conv.state, self.conv.data, self.conv.expires_at = IDLE, {}, None

    @property
    def asking(self) -> str:
        return self.conv.state if self.conv.active(self.ctx.now) else IDLE


def handle_inbound(session: Session, ctx: SmsContext, message: Message) -> None:
    """Handle one stored inbound message. Flushes; the caller commits."""
    person = find_or_create_person(session, message.phone)
    message.person_id = person.id
    c = Turn(session, ctx, message, person)
    if person.blocked:
        return
    choices = c.conv.data.get("choices") if c.asking != IDLE else None
    cmd = parse(
        message.body,
        keywords=ctx.keywords,
        categories=ctx.aliases,
        choices=choices,
        language=person.language,
    )
    if cmd.language in ctx.catalogue.languages and (
        cmd.intent not in SHORT_ANSWERS or not _known(session, person)
    ):
        person.language = cmd.language
    if cmd.intent is Intent.STOP:
        return _stop(c, cmd)
    if cmd.intent is Intent.START:
        return _start(c, cmd)
    if person.opted_out:
        return  # nothing is sent to them until START
    if person.awaiting_opt_in and cmd.intent in (Intent.NEED, Intent.OFFER):
        # an imported person asking or offering by their own text has opted in
        optin.confirm(
            session, person, source=f"sms:{cmd.intent.name}", actor=Actor.person(person.id)
        )
    HANDLERS.get(cmd.intent, _text)(c, cmd)


def _known(session: Session, person: Person) -> bool:
    """Whether we already know the person (an offer or a request: their language too)."""
    has_offer = session.scalar(select(Offer.id).where(Offer.person_id == person.id).limit(1))
    return has_offer is not None or (
        session.scalar(select(AidRequest.id).where(AidRequest.requester_id == person.id).limit(1))
        is not None
    )


# -- consent ------------------------------------------------------------------------------


def _stop(c: Turn, cmd: Command) -> None:
    person = c.person
    consent.opt_out(
        c.session,
        person.id,
        source=f"{c.message.channel}:STOP",
        actor=Actor.person(person.id),
        now=c.ctx.now,
    )
    c.forget()
    if not _provider_answers(c, cmd):
        c.say("stopped")


def _start(c: Turn, cmd: Command) -> None:
    consent.opt_in(
        c.session, c.person, source=f"{c.message.channel}:START", actor=Actor.person(c.person.id)
    )
    if not _provider_answers(c, cmd):
        c.say("started")


def _provider_answers(c: Turn, cmd: Command) -> bool:
    """Twilio answers its own opt-out and opt-in words by SMS: a second answer would be
    noise. On WhatsApp it answers nothing: we do."""
    return (
        c.ctx.provider_answers_keywords
        and c.message.channel != "whatsapp"
        and cmd.text.strip().lower() in TWILIO_HANDLED
    )


# -- simple commands ----------------------------------------------------------------------


def _help(c: Turn, cmd: Command) -> None:
    c.say("help")


def _human(c: Turn, cmd: Command) -> None:
    if threads.is_open(c.conv):
        # Already talking with a coordinator ("can someone call me back"): it is for them.
        threads.reply_received(c.session, c.person.id, c.message.id)
        return
    threads.open_thread(
        c.session,
        c.person.id,
        now=c.ctx.now,
        actor=Actor.person(c.person.id),
        opened_by="asked",
        conversation=c.conv,
    )
    c.say("human_ack")


def _pause(c: Turn, cmd: Command, paused: bool = True) -> None:
    offer = c.session.scalar(select(Offer).where(Offer.person_id == c.person.id))
    if offer is None:
        c.say("status_none")
        return
    availability.set_paused(c.session, offer, paused, actor=Actor.person(c.person.id))
    c.say("paused" if paused else "resumed")


def _resume(c: Turn, cmd: Command) -> None:
    _pause(c, cmd, paused=False)


def _latest_request(c: Turn, *states: RequestStatus) -> AidRequest | None:
    query = select(AidRequest).where(AidRequest.requester_id == c.person.id)
    if states:
        query = query.where(AidRequest.status.in_(states))
    return c.session.scalars(query.order_by(AidRequest.id.desc()).limit(1)).first()


def _status(c: Turn, cmd: Command) -> None:
    said = False
    req = _latest_request(c)
    if req is not None:
        closed = req.status in (RequestStatus.COMPLETED, RequestStatus.CANCELLED)
        c.say(
            "status_requester_closed" if closed else "status_requester",
            ref=req.ref,
            category=c.label(req.category),
            state=c.ctx.catalogue.render(f"request_state_{req.status.value}", c.person.language),
        )
        said = True
    tasks = lifecycle.accepted_tasks(c.session, c.person)
    if tasks:
        c.say(
            "status_volunteer",
            tasks="; ".join(
                f"{m.code} {c.label(m.request.category)} ({m.request.location_label or '?'})"
                for m in tasks[:3]
            ),
        )
        said = True
    if not said:
        # A volunteer without a task is told they are available (or paused), not asked
        # to OFFER again.
        offer = c.session.scalar(select(Offer).where(Offer.person_id == c.person.id))
        if offer is None:
            c.say("status_none")
        else:
            c.say("status_paused" if offer.paused else "status_available")


def _cancel(c: Turn, cmd: Command) -> None:
    c.forget()
    req = _latest_request(c, RequestStatus.OPEN, RequestStatus.MATCHED)
    if req is None:
        c.say("nothing_to_cancel")
        return
    lifecycle.cancel_request(c.session, c.ctx, req, actor=Actor.person(c.person.id))
    c.say("cancelled_requester", ref=req.ref)


# -- answers to proposals and follow-ups ---------------------------------------------------


def _pick(c: Turn, cmd: Command, matches: list[Match]) -> Match | None:
    """The match a YES/NO/DONE is about: by code, or the only one; otherwise ask which."""
    if cmd.code:
        return next((m for m in matches if m.code == cmd.code), None)
    if len(matches) == 1:
        return matches[0]
    if matches:
        codes = [m.code for m in matches]
        c.say("which_code", codes=", ".join(codes[:5]), code=codes[0])
    return None


def _answer(c: Turn, cmd: Command) -> None:
    yes = cmd.intent is Intent.YES
    if yes and cmd.code and len(cmd.code) == confirmation.CODE_DIGITS:
        return _confirm_submission(c, cmd.code)
    if c.person.awaiting_opt_in:
        c._replies += 1
        key = f"reply:{c.message.id}:{c._replies}"
        return optin.answer(c.session, c.ctx, c.person, yes=yes, dedupe_key=key)
    if c.asking == "followup":
        return _followup(c, yes)
    pending = lifecycle.pending_proposals(c.session, c.person)
    match = _pick(c, cmd, pending)
    if match is None:
        if not pending or cmd.code:
            if cmd.code and _already_answered(c, cmd.code):
                c.say("proposal_taken", code=cmd.code)
            else:
                c.say("nothing_pending")
        return
    actor = Actor.person(c.person.id)
    if yes:
        outcome = lifecycle.accept(c.session, c.ctx, match, actor=actor)
    else:
        outcome = lifecycle.decline(c.session, c.ctx, match, actor=actor)
    if outcome is lifecycle.Outcome.TOO_LATE:
        c.say("proposal_taken", code=match.code)


def _confirm_submission(c: Turn, code: str) -> None:
    """ "YES 12345": this number confirms the web form that named it."""
    done = confirmation.confirm(c.session, c.ctx, c.person, code)
    if done is None:
        c.say("confirm_unknown")
    elif done.request is not None:
        req = done.request
        if req.needs_location:
            c.say("need_no_location_stored", ref=req.ref)
        else:
            c.say("need_confirmed", category=c.label(req.category), ref=req.ref)
    elif done.offer is not None:
        _offer_saved(c, done.offer)


def _already_answered(c: Turn, code: str) -> bool:
    """A code this volunteer was proposed that is no longer waiting (taken, expired …)."""
    return (
        c.session.scalar(
            select(Match.id)
            .join(Offer, Offer.id == Match.offer_id)
            .where(Offer.person_id == c.person.id, Match.code == code)
            .limit(1)
        )
        is not None
    )


def _done(c: Turn, cmd: Command) -> None:
    tasks = lifecycle.accepted_tasks(c.session, c.person)
    match = _pick(c, cmd, tasks)
    if match is None:
        if not tasks or cmd.code:
            c.say("nothing_pending")
        return
    outcome = lifecycle.complete(c.session, c.ctx, match, actor=Actor.person(c.person.id))
    if outcome is lifecycle.Outcome.TOO_LATE:
        c.say("nothing_pending")
    else:
        _arm_followup(c.session, c.ctx, match)


def _arm_followup(session: Session, ctx: SmsContext, match: Match) -> None:
    """Make the requester's next YES/NO the answer to "did you get what you needed?"."""
    conv = _locked_conversation(session, match.request.requester_id)
    conv.state = "followup"
    conv.data = {"request_id": match.request_id}
    conv.expires_at = ctx.now + ctx.followup_after + ctx.followup_window


def _followup(c: Turn, yes: bool) -> None:
    req = c.session.get(AidRequest, c.conv.data.get("request_id"))
    c.forget()
    if req is None:
        c.say("nothing_pending")
        return
    record(
        c.session,
        Actor.person(c.person.id),
        "request.followup_answered",
        subject_type="aid_requests",
        subject_id=req.id,
        got_help=yes,
    )
    if yes:
        c.say("followup_thanks")
        return
    if req.status is RequestStatus.COMPLETED:
        from mutualaid.services.transitions import change_request_status

        change_request_status(
            c.session,
            req,
            RequestStatus.OPEN,
            actor=Actor.person(c.person.id),
            reason="requester did not get what they needed",
        )
        flags.flag(
            c.session,
            req,
            "requester said they did not get help",
            actor=Actor.person(c.person.id),
        )
    c.say("followup_sorry")


# -- needs and offers ---------------------------------------------------------------------


def _need(c: Turn, cmd: Command) -> None:
    open_req = _latest_request(c, RequestStatus.OPEN, RequestStatus.MATCHED)
    if open_req is not None:
        return _update_need(c, cmd, open_req)
    data = {
        "category": cmd.categories[0] if cmd.categories else None,
        "location_text": cmd.location_text,
        "address": find_street_address(cmd.text),
        "details": _details(c, cmd),
        "urgent": cmd.urgent,
    }
    _continue_need(c, data)


def _details(c: Turn, cmd: Command) -> str:
    """What the text says beyond the command itself, for the volunteer: the whole text when
    it says more ("need groceries 11216, I use a wheelchair"), nothing when it only repeats
    the need, its category and place ("need groceries 11216" — the task text has those)."""
    if not _says_more(c, cmd):
        return ""
    return lifecycle.strip_numbers(cmd.text, c.ctx.phone_region, words=c.ctx.keywords.numbers)[:500]


_FILLER = frozenset(
    "i im a an the some for with please pls help need needs needed me my to de la el "  # noqa: SIM905
    "los las un una unos unas con para por favor ayuda necesito necesita yo mi al en".split()
)


def _says_more(c: Turn, cmd: Command) -> bool:
    text = fold(cmd.text)
    for part in (cmd.keyword, cmd.location_text):
        if part:
            text = text.replace(fold(part), " ")
    for category in cmd.categories:
        for alias in sorted(c.ctx.aliases.get(category, []), key=len, reverse=True):
            text = f" {text} ".replace(f" {fold(alias)} ", " ")
    return any(word not in _FILLER and not word.isdigit() for word in text.split())


def _update_need(c: Turn, cmd: Command, req: AidRequest) -> None:
    """A repeat "need …" while a request is open adds to it rather than duplicating it."""
    addition = _details(c, cmd)
    if addition and addition not in req.details:
        req.details = f"{req.details}\n{addition}".strip()[:2000]
    raised = lifecycle.raise_urgency(req, cmd.urgent)
    record(
        c.session,
        Actor.person(c.person.id),
        "request.updated",
        subject_type="aid_requests",
        subject_id=req.id,
        via="sms",
        urgency_raised=raised,
    )
    c.forget()
    if req.needs_location and _locate(c, cmd, req):
        return
    c.say("need_updated", ref=req.ref, category=c.label(req.category))


def _continue_need(c: Turn, data: dict[str, Any]) -> None:
    if not data.get("category"):
        keys = list(c.ctx.categories)
        c.ask("need_category", **data, choices=keys)
        c.say("need_ask_category", options=numbered([c.label(k) for k in keys]))
        return
    if not data.get("location_text") and not data.get("address"):
        c.ask("need_location", **data)
        c.say("need_ask_location", category=c.label(data["category"]))
        return
    c.forget()
    address = (data.get("address") or "")[:200]
    req = create_request(
        c.session,
        NewRequest(
            phone=c.person.phone or "",
            category=data["category"],
            location_text=(data.get("location_text") or address)[:200],
            urgency=Urgency.URGENT if data.get("urgent") else Urgency.NORMAL,
            details=data.get("details") or "",
            address=address,
            language=c.person.language,
            channel=Channel.WHATSAPP if c.message.channel == "whatsapp" else Channel.SMS,
        ),
        resolver=c.ctx.resolver,
        categories=c.ctx.categories,
        verified=confirmation.VERIFIED_TEXTED,
    )
    if req.needs_location:
        # Asked once more, with examples this network's resolver is sure to place.
        c.ask("request_location", request_id=req.id)
        c.say("need_location_again", ref=req.ref, **c.ctx.resolver.gazetteer.examples())
    else:
        c.say("need_confirmed", category=c.label(req.category), ref=req.ref)


def _place_in(
    c: Turn, cmd: Command, *, whole_text: bool
) -> tuple[Location | None, str, str | None]:
    """Where a text says the person is: a street address in it (kept as the private
    address), else the place the parser found, else (when we asked where) the whole
    text; the place found, what was typed for it, and the address."""
    address = find_street_address(cmd.text)
    resolver = c.ctx.resolver
    found = resolver.resolve_address(address) if address else None
    typed = address or cmd.location_text or ""
    if found is None and cmd.location_text:
        found, typed = resolver.resolve(cmd.location_text), cmd.location_text
    if found is None and whole_text:
        found, typed = resolver.resolve(cmd.text), cmd.text.strip()
    return found, typed, address


def _locate(c: Turn, cmd: Command, req: AidRequest, *, whole_text: bool = False) -> bool:
    """Place ``req`` (open, without a location) from this text if it names a place; told
    to the requester. False when the text places nothing."""
    found, typed, address = _place_in(c, cmd, whole_text=whole_text)
    if found is None:
        return False
    if not place_request(
        c.session, req, typed, found, actor=Actor.person(c.person.id), address=address
    ):
        return False
    c.forget()
    c.say("location_set", ref=req.ref, place=found.label)
    return True


def _unlocated_request(c: Turn) -> AidRequest | None:
    """The person's latest open request, if it still needs a location."""
    req = _latest_request(c, RequestStatus.OPEN)
    return req if req is not None and req.needs_location else None


def _offer(c: Turn, cmd: Command) -> None:
    existing = c.session.scalar(select(Offer).where(Offer.person_id == c.person.id))
    data = {
        "categories": list(cmd.categories) or (existing.categories if existing else []),
        "location_text": cmd.location_text or (existing.location_text if existing else None),
        "radius_km": cmd.radius_km or (existing.radius_km if existing else None),
    }
    _continue_offer(c, data)


def _continue_offer(c: Turn, data: dict[str, Any]) -> None:
    if not data.get("categories"):
        keys = list(c.ctx.categories)
        c.ask("offer_categories", **data, choices=keys)
        c.say("offer_ask_categories", options=numbered([c.label(k) for k in keys]))
        return
    if not data.get("location_text"):
        c.ask("offer_location", **data)
        c.say("offer_ask_location")
        return
    c.forget()
    existing = c.session.scalar(select(Offer).where(Offer.person_id == c.person.id))
    offer = save_offer(
        c.session,
        NewOffer(
            phone=c.person.phone or "",
            categories=tuple(data["categories"]),
            location_text=data["location_text"][:200],
            radius_km=min(float(data.get("radius_km") or DEFAULT_RADIUS_KM), 50.0),
            capacity=existing.capacity if existing else 1,
            availability=existing.availability if existing else "",
            language=c.person.language,
        ),
        resolver=c.ctx.resolver,
        categories=c.ctx.categories,
        verified=confirmation.VERIFIED_TEXTED,
    )
    _offer_saved(c, offer)


def _offer_saved(c: Turn, offer: Offer) -> None:
    c.say(
        "offer_confirmed",
        categories=", ".join(c.label(k) for k in offer.categories),
        radius=c.ctx.radius(offer.radius_km, c.person.language),
        area=offer.location_label or offer.location_text,
    )


# -- answers to our questions, relays, and the rest ----------------------------------------


def _choice(c: Turn, cmd: Command) -> None:
    state, data = c.asking, dict(c.conv.data)
    if state == "need_category" and cmd.choice:
        data["category"] = cmd.choice
        return _continue_need(c, data)
    if state == "offer_categories" and cmd.picks:
        data["categories"] = list(cmd.picks)
        return _continue_offer(c, data)
    if state == "relay_which" and cmd.choice:
        return _relay_chosen(c, cmd.choice)
    _text(c, cmd)


def _text(c: Turn, cmd: Command) -> None:
    state, data = c.asking, dict(c.conv.data)
    text = cmd.text.strip()
    if state == "need_category":
        if cmd.categories:
            data["category"] = cmd.categories[0]
            return _continue_need(c, data)
        c.say("choice_invalid", max=str(len(data.get("choices", []))))
        return
    if state == "need_location" and text:
        data["location_text"] = cmd.location_text or text
        data["address"] = find_street_address(text)
        return _continue_need(c, data)
    if state == "request_location" and text:
        req = c.session.get(AidRequest, data.get("request_id"))
        if req is not None and req.needs_location:
            if not _locate(c, cmd, req, whole_text=True):
                c.forget()  # asked once more: now a coordinator takes it up
                c.say("need_no_location_stored", ref=req.ref)
            return
    if state == "offer_categories":
        if cmd.categories:
            data["categories"] = list(cmd.categories)
            return _continue_offer(c, data)
        c.say("choice_invalid", max=str(len(data.get("choices", []))))
        return
    if state == "offer_location" and text:
        data["radius_km"] = cmd.radius_km or data.get("radius_km")
        if cmd.radius_km and not cmd.location_text and not _place_words(text):
            # "2 miles": how far, but not yet from where.
            c.ask("offer_location", **data)
            c.say("offer_ask_location")
            return
        data["location_text"] = cmd.location_text or text
        return _continue_offer(c, data)
    if threads.is_open(c.conv) and text:
        # Talking with a coordinator: their reply reaches the coordinators, unanswered.
        threads.reply_received(c.session, c.person.id, c.message.id)
        return
    partners = lifecycle.relay_partners(c.session, c.person)
    if partners and text:
        return _relay(c, partners, text)
    unlocated = _unlocated_request(c) if text else None
    if unlocated is not None and _locate(c, cmd, unlocated):
        return  # any later text that names a place places the request
    if cmd.categories and text:
        # "groceries please, 11216": a need without the keyword.
        return _need(c, cmd)
    c.say("unknown")


# A text addressed to one task: its code first ("4821 I'm outside", "#4821: ok").
_ADDRESSED = re.compile(r"\s*#?(\d{4})(?!\d)[\s:,.;-]*(.*)", re.DOTALL)
MAX_HELD_RELAYS = 5


def _relay(c: Turn, partners: list[tuple[Match, str]], text: str) -> None:
    """Forward a free text to the task it is for. One live relay: that one. A text that
    starts with a task code: that task. Otherwise, with several, nothing is forwarded:
    the text is held and the person asked which task it is for (``_relay_chosen``)."""
    addressed = _ADDRESSED.fullmatch(text)
    if addressed:
        named = [p for p in partners if p[0].code == addressed.group(1)]
        if len(named) == 1:
            match, side = named[0]
            message = addressed.group(2).strip()
            if message:
                lifecycle.relay(c.session, c.ctx, match, side, message, inbound_id=c.message.id)
            return
    if len(partners) == 1:
        match, side = partners[0]
        lifecycle.relay(c.session, c.ctx, match, side, text, inbound_id=c.message.id)
        return
    held = list(c.conv.data.get("held", [])) if c.asking == "relay_which" else []
    held = [*held, c.message.id][-MAX_HELD_RELAYS:]
    codes = [m.code for m, _ in partners]
    # Answered by number, or by code when the codes tell the tasks apart.
    choices = codes if len(set(codes)) == len(codes) else [str(n) for n in range(1, len(codes) + 1)]
    c.ask("relay_which", held=held, matches=[m.id for m, _ in partners], choices=choices)
    c.say("relay_which", options=numbered([_relay_option(c, m, side) for m, side in partners]))


def _relay_option(c: Turn, match: Match, side: str) -> str:
    language = c.person.language
    if side == "volunteer":
        name = match.request.requester.name or c.ctx.catalogue.render("someone", language)
    else:
        name = match.offer.person.name or c.ctx.catalogue.render("a_neighbour", language)
    return c.ctx.catalogue.render(
        "relay_option",
        language,
        name=name,
        category=c.label(match.request.category),
        code=match.code,
    )


def _relay_chosen(c: Turn, choice: str) -> None:
    """The answer to "which task is this for?": the held texts go to that task, if it is
    still live."""
    data = c.conv.data
    choices, match_ids = list(data.get("choices", [])), list(data.get("matches", []))
    held = list(data.get("held", []))
    c.forget()
    chosen = match_ids[choices.index(choice)] if choice in choices else None
    live = {m.id: (m, side) for m, side in lifecycle.relay_partners(c.session, c.person)}
    if chosen not in live:
        c.say("relay_gone")
        return
    match, side = live[chosen]
    sent = False
    for message_id in held:
        message = c.session.get(Message, message_id)
        if message is not None and message.person_id == c.person.id:
            body = clean(message.body).strip()
            sent |= lifecycle.relay(c.session, c.ctx, match, side, body, inbound_id=message_id)
    if sent:  # a text too long to pass on was answered already (relay_too_long)
        c.say("relay_sent", code=match.code)


_DISTANCE_WORDS = re.compile(
    r"\b(\d+(?:[.,]\d+)?|km|kms|kilometers?|kilometres?|kil[oó]metros?|mi|miles?|millas?|"
    r"within|up|to|hasta|about|around|unos|unas)\b",
    re.IGNORECASE,
)


def _place_words(text: str) -> str:
    """What is left of ``text`` once distance words are removed ("2 miles" leaves "")."""
    return " ".join(_DISTANCE_WORDS.sub(" ", text).split()).strip(" .,;")


def _relay_or(handler: Callable[[Turn, Command], None]):
    """During an accepted match, or a thread with a coordinator, a message that only looks
    like a command in passing ("yes I'm outside", "I need to ask about my rent") is relayed
    or kept for the coordinator rather than obeyed."""

    def handle(c: Turn, cmd: Command) -> None:
        in_thread = threads.is_open(c.conv)
        if in_thread and cmd.intent in (Intent.NEED, Intent.OFFER) and not cmd.categories:
            return _text(c, cmd)  # "I need to ask you about my rent" is for the coordinator
        if cmd.via not in COMMAND_VIA and (
            in_thread or lifecycle.relay_partners(c.session, c.person)
        ):
            return _text(c, cmd)
        handler(c, cmd)

    return handle


HANDLERS: dict[Intent, Callable[[Turn, Command], None]] = {
    Intent.HELP: _help,
    Intent.HUMAN: _human,
    Intent.PAUSE: _pause,
    Intent.RESUME: _resume,
    Intent.STATUS: _status,
    Intent.CANCEL: _relay_or(_cancel),
    Intent.YES: _relay_or(_answer),
    Intent.NO: _relay_or(_answer),
    Intent.DONE: _relay_or(_done),
    Intent.NEED: _relay_or(_need),
    Intent.OFFER: _relay_or(_offer),
    Intent.CHOICE: _choice,
    Intent.TEXT: _text,
}


def forget_expired(session: Session, *, now) -> int:
    """Clear every question past its expiry — its state and what the person had typed so
    far — so a half-finished dialogue (an address, a door code) does not stay stored.
    The worker runs it; a question is already ignored past its expiry (``Turn.asking``).
    Returns how many were cleared. Flushes; the caller commits."""
    result = session.execute(
        update(Conversation)
        .where(Conversation.state != IDLE, Conversation.expires_at < now)
        .values(state=IDLE, data={}, expires_at=None)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def _locked_conversation(session: Session, person_id: int) -> Conversation:
    insert_or_ignore(session, Conversation, {"person_id": person_id, "data": {}}, ["person_id"])
    query = select(Conversation).where(Conversation.person_id == person_id)
    if session.get_bind().dialect.name == "postgresql":
        query = query.with_for_update()
    return session.scalars(query.execution_options(populate_existing=True)).one()
