"""The life of a match: proposed → accepted → completed, or declined / expired / withdrawn /
cancelled — and what each person is told at every step.

Every step is a conditional status change (services.transitions), so when a YES races an
expiry, a coordinator's assignment or a cancellation, exactly one of them wins and the
others get StaleState; callers tell their person the truth. On PostgreSQL, a step that
changes both a request and a match locks the request first, so two steps never wait on
each other in opposite order (a deadlock).
"""

from __future__ import annotations

import datetime as dt
import secrets
from collections.abc import Callable
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from mutualaid.models import (
    LIVE_MATCH_STATUSES,
    AidRequest,
    Match,
    MatchStatus,
    Offer,
    Person,
    RequestStatus,
    Urgency,
)
from mutualaid.services.audit import Actor, record
from mutualaid.services.notify import SmsContext, by_whatsapp_now, measure, say
from mutualaid.services.transitions import (
    IllegalTransition,
    StaleState,
    change_match_status,
    change_request_status,
)
from sms.phones import NumberWords, scan_numbers

M = MatchStatus
R = RequestStatus


class Outcome(StrEnum):
    DONE = "done"  # the change happened
    TOO_LATE = "too_late"  # someone or something else changed it first
    NOT_ALLOWED = "not_allowed"  # its state does not allow it (already closed, say)


def live_load(session: Session, offer_id: int) -> int:
    """How many live (proposed or accepted) matches a volunteer holds."""
    return session.scalar(
        select(func.count())
        .select_from(Match)
        .where(Match.offer_id == offer_id, Match.status.in_(LIVE_MATCH_STATUSES))
    )


def _new_code(session: Session, offer_id: int) -> str:
    """A 4-digit code unique among this volunteer's live matches."""
    taken = set(
        session.scalars(
            select(Match.code).where(
                Match.offer_id == offer_id, Match.status.in_(LIVE_MATCH_STATUSES)
            )
        )
    )
    while True:
        code = f"{secrets.randbelow(9000) + 1000}"
        if code not in taken:
            return code


def _lock(session: Session, model: type, row_id: int) -> None:
    """Lock a row until commit (PostgreSQL); SQLite's BEGIN IMMEDIATE already holds the
    database's write lock, so two writers never interleave there."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(model.id).where(model.id == row_id).with_for_update())


def propose(
    session: Session,
    ctx: SmsContext,
    req: AidRequest,
    offer: Offer,
    *,
    km: float | None,
    why: str,
    expires_at: dt.datetime,
    run_id: int | None = None,
    actor: Actor | None = None,
    link_for: Callable[[Match], str] | None = None,
    notify: bool = True,
) -> Match | None:
    """Propose ``offer`` for ``req`` if the request is still open without a live match and
    the volunteer still has free capacity; otherwise None (a stale run's pair). Queues the
    proposal SMS: category, rough distance and area, when — never the requester's phone or
    address."""
    _lock(session, AidRequest, req.id)
    _lock(session, Offer, offer.id)
    session.refresh(req, ["status"])
    session.refresh(offer, ["paused", "capacity"])
    person = offer.person
    if (
        req.status is not R.OPEN
        or offer.paused
        or person.opted_out
        or person.blocked
        or person.awaiting_opt_in
        or req.requester.awaiting_opt_in
        or live_load(session, offer.id) >= offer.capacity
    ):
        return None
    match = Match(
        request_id=req.id,
        offer_id=offer.id,
        run_id=run_id,
        status=M.PROPOSED,
        code=_new_code(session, offer.id),
        km=km,
        why=why,
        expires_at=expires_at,
        assigned_by=actor.id if actor and actor.type == "coordinator" else None,
    )
    try:
        with session.begin_nested():
            session.add(match)
    except IntegrityError:
        if live_matches(session, request_id=req.id):
            return None  # the request got a live match meanwhile (the partial unique index)
        raise
    record(
        session,
        actor or Actor.system(),
        "match.proposed",
        subject_type="matches",
        subject_id=match.id,
        to_state=M.PROPOSED.value,
        request_id=req.id,
        offer_id=offer.id,
        km=km,
        run_id=run_id,
    )
    if not notify:
        return match
    lang = person.language
    say(
        session,
        ctx,
        person,
        "proposal",
        dedupe_key=f"proposal:{match.id}",
        match_id=match.id,
        request_id=req.id,
        category=ctx.label(req.category, lang),
        distance=ctx.distance(km, lang),
        area=req.location_label or "?",
        when=ctx.catalogue.render(f"when_{req.urgency.value}", lang),
        code=match.code,
        link=link_for(match) if link_for else "-",
    )
    return match


def accept(session: Session, ctx: SmsContext, match: Match, *, actor: Actor) -> Outcome:
    """YES: the match is accepted and the request matched, in one transaction; the
    volunteer gets what they need to help, the requester hears a neighbour is coming."""
    try:
        with session.begin_nested():
            _lock(session, AidRequest, match.request_id)  # request before match, always
            change_match_status(session, match, M.ACCEPTED, actor=actor, expected=M.PROPOSED)
            change_request_status(session, match.request, R.MATCHED, actor=actor, expected=R.OPEN)
    except StaleState:
        return Outcome.TOO_LATE
    req, volunteer = match.request, match.offer.person
    requester = req.requester
    lang = volunteer.language
    details = strip_numbers(req.details or "", ctx.phone_region, words=ctx.keywords.numbers)
    say(
        session,
        ctx,
        volunteer,
        "accepted_volunteer",
        dedupe_key=f"accepted_volunteer:{match.id}",
        match_id=match.id,
        request_id=req.id,
        code=match.code,
        category=ctx.label(req.category, lang),
        name=requester.name or ctx.catalogue.render("someone", lang),
        # The address goes to this volunteer only, and without any phone number in it.
        place=strip_numbers(
            req.address or req.location_label or req.location_text or "?",
            ctx.phone_region,
            words=ctx.keywords.numbers,
        ),
        # Cut to its budget when sent (config/segments.toml), ending with a link to the
        # task's page where all of it can be read.
        details=details[:1000],
        more=ctx.task_link(match),
    )
    named = {"name": volunteer.name} if volunteer.name else {}
    say(
        session,
        ctx,
        requester,
        "accepted_requester" if volunteer.name else "accepted_requester_unnamed",
        dedupe_key=f"accepted_requester:{match.id}",
        match_id=match.id,
        request_id=req.id,
        category=ctx.label(req.category, requester.language),
        ref=req.ref,
        **named,
    )
    return Outcome.DONE


def decline(
    session: Session, ctx: SmsContext, match: Match, *, actor: Actor, tell: bool = True
) -> Outcome:
    """NO: the proposal is declined; the request stays open and that volunteer is never
    proposed for it again (see excluded_offers)."""
    try:
        change_match_status(session, match, M.DECLINED, actor=actor, expected=M.PROPOSED)
    except StaleState:
        return Outcome.TOO_LATE
    if tell:
        say(
            session,
            ctx,
            match.offer.person,
            "declined_ack",
            dedupe_key=f"declined:{match.id}",
            match_id=match.id,
        )
    return Outcome.DONE


def expire(session: Session, ctx: SmsContext, match: Match) -> Outcome:
    """No answer in time: expired, the volunteer is told, the request goes to someone else."""
    try:
        change_match_status(session, match, M.EXPIRED, actor=Actor.system(), expected=M.PROPOSED)
    except StaleState:
        return Outcome.TOO_LATE
    say(
        session,
        ctx,
        match.offer.person,
        "expired_volunteer",
        dedupe_key=f"expired:{match.id}",
        match_id=match.id,
        code=match.code,
    )
    return Outcome.DONE


def complete(session: Session, ctx: SmsContext, match: Match, *, actor: Actor) -> Outcome:
    """DONE: match and request completed; the requester is asked later whether they got
    what they needed."""
    try:
        with session.begin_nested():
            _lock(session, AidRequest, match.request_id)  # request before match, always
            change_match_status(session, match, M.COMPLETED, actor=actor, expected=M.ACCEPTED)
            change_request_status(
                session, match.request, R.COMPLETED, actor=actor, expected=R.MATCHED
            )
    except StaleState:
        return Outcome.TOO_LATE
    req = match.request
    say(
        session,
        ctx,
        match.offer.person,
        "done_ack",
        dedupe_key=f"done:{match.id}",
        match_id=match.id,
        code=match.code,
    )
    followup = say(
        session,
        ctx,
        req.requester,
        "followup_question",
        dedupe_key=f"followup:{match.id}",
        match_id=match.id,
        request_id=req.id,
        category=ctx.label(req.category, req.requester.language),
        ref=req.ref,
    )
    if followup is not None:
        followup.next_attempt_at = ctx.now + ctx.followup_after
    return Outcome.DONE


def cancel_request(session: Session, ctx: SmsContext, req: AidRequest, *, actor: Actor) -> Outcome:
    """CANCEL: the request is cancelled; a pending proposal is withdrawn, an accepted match
    released, and that volunteer told."""
    try:
        change_request_status(session, req, R.CANCELLED, actor=actor)
    except StaleState:
        return Outcome.TOO_LATE
    except IllegalTransition:
        return Outcome.NOT_ALLOWED
    for match in live_matches(session, request_id=req.id):
        to = M.WITHDRAWN if match.status is M.PROPOSED else M.CANCELLED
        try:
            change_match_status(session, match, to, actor=actor, reason="request cancelled")
        except StaleState:
            continue
        say(
            session,
            ctx,
            match.offer.person,
            "cancelled_volunteer",
            dedupe_key=f"cancelled_volunteer:{match.id}",
            match_id=match.id,
            code=match.code,
        )
    return Outcome.DONE


def assign(
    session: Session,
    ctx: SmsContext,
    req: AidRequest,
    offer: Offer,
    *,
    actor: Actor,
    km: float | None = None,
    agreed: bool = True,
    link_for: Callable[[Match], str] | None = None,
) -> Match | None:
    """A coordinator assigns ``offer`` to ``req`` by hand: a pending proposal to someone
    else is withdrawn, and the volunteer is proposed the task by SMS (with the same expiry
    as a run's proposal), or — when ``agreed``, they already said yes to the coordinator —
    the new match is accepted at once. None when the request is no longer open or its
    proposal was answered first (the loser of that race)."""
    try:
        with session.begin_nested():
            # Lock the request first: a matching run proposing for it at this moment
            # either committed before (and its proposal is withdrawn below) or waits.
            _lock(session, AidRequest, req.id)
            for match in live_matches(session, request_id=req.id):
                change_match_status(
                    session,
                    match,
                    M.WITHDRAWN,
                    actor=actor,
                    expected=M.PROPOSED,
                    reason="assigned by a coordinator",
                )
            match = propose(
                session,
                ctx,
                req,
                offer,
                km=km,
                why="assigned by a coordinator",
                expires_at=ctx.now + ctx.proposal_ttl,
                actor=actor,
                notify=not agreed,
                link_for=link_for,
            )
            if match is None:
                raise StaleState("the request or volunteer changed meanwhile", None)
    except StaleState:
        return None
    for withdrawn in session.scalars(
        select(Match).where(
            Match.request_id == req.id, Match.status == M.WITHDRAWN, Match.closed_at >= ctx.now
        )
    ):
        if withdrawn.offer_id != offer.id:
            say(
                session,
                ctx,
                withdrawn.offer.person,
                "proposal_taken",
                dedupe_key=f"withdrawn:{withdrawn.id}",
                match_id=withdrawn.id,
                code=withdrawn.code,
            )
    if agreed and accept(session, ctx, match, actor=actor) is Outcome.TOO_LATE:
        return None
    return match


def live_matches(
    session: Session, *, request_id: int | None = None, offer_id: int | None = None
) -> list[Match]:
    query = select(Match).where(Match.status.in_(LIVE_MATCH_STATUSES)).order_by(Match.id)
    if request_id is not None:
        query = query.where(Match.request_id == request_id)
    if offer_id is not None:
        query = query.where(Match.offer_id == offer_id)
    return list(session.scalars(query))


def pending_proposals(session: Session, person: Person) -> list[Match]:
    """The proposals waiting for this person's YES or NO, oldest first."""
    return list(
        session.scalars(
            select(Match)
            .join(Offer, Offer.id == Match.offer_id)
            .where(Offer.person_id == person.id, Match.status == M.PROPOSED)
            .order_by(Match.id)
        )
    )


def accepted_tasks(session: Session, person: Person) -> list[Match]:
    return list(
        session.scalars(
            select(Match)
            .join(Offer, Offer.id == Match.offer_id)
            .where(Offer.person_id == person.id, Match.status == M.ACCEPTED)
            .order_by(Match.id)
        )
    )


def relay_partners(session: Session, person: Person) -> list[tuple[Match, str]]:
    """The accepted matches through which this person's free text may be relayed, each
    with their side ("volunteer" or "requester"), oldest first. With more than one, a
    text is relayed only once it names its task (never to a guessed one)."""
    as_volunteer = accepted_tasks(session, person)
    as_requester = list(
        session.scalars(
            select(Match)
            .join(AidRequest, AidRequest.id == Match.request_id)
            .where(AidRequest.requester_id == person.id, Match.status == M.ACCEPTED)
            .order_by(Match.id)
        )
    )
    candidates = [(m, "volunteer") for m in as_volunteer] + [(m, "requester") for m in as_requester]
    return sorted(candidates, key=lambda c: c[0].id)


def relay(
    session: Session, ctx: SmsContext, match: Match, side: str, text: str, *, inbound_id: int
) -> bool:
    """Forward ``text`` to the other party of an accepted match, prefixed with who is
    speaking; phone numbers in it are removed, so neither learns the other's number.

    A text that would cost more than RELAY_MAX_SEGMENTS by SMS is not forwarded: its
    writer is told, kindly, how long a text may be. False then. (To a reader on WhatsApp
    within its 24 hours there are no segments: it goes whole.)"""
    volunteer, requester = match.offer.person, match.request.requester
    carried = match.volunteer_digits if side == "volunteer" else match.requester_digits
    scan = scan_numbers(text, ctx.phone_region, words=ctx.keywords.numbers, carried=carried)
    body = _removed(text, scan.spans)[:600]
    if side == "volunteer":
        writer, reader = volunteer, requester
        key = "relay_from_volunteer" if volunteer.name else "relay_from_volunteer_unnamed"
        values = {"message": body, **({"name": volunteer.name} if volunteer.name else {})}
    else:
        writer, reader = requester, volunteer
        key = "relay_from_requester"
        name = requester.name or ctx.catalogue.render("someone", volunteer.language)
        values = {"name": name, "code": match.code, "message": body}
    cost = measure(ctx, reader, key, values).cost
    if cost.count > ctx.relay_max_segments and not by_whatsapp_now(session, ctx, reader):
        say(
            session,
            ctx,
            writer,
            "relay_too_long",
            dedupe_key=f"relay_too_long:{inbound_id}",
            match_id=match.id,
            chars=str(len(text)),
            max=str(relay_capacity(ctx, reader, key, values, cost.encoding)),
        )
        return False
    if side == "volunteer":
        match.volunteer_digits = scan.trailing
    else:
        match.requester_digits = scan.trailing
    say(session, ctx, reader, key, dedupe_key=f"relay:{inbound_id}", match_id=match.id, **values)
    return True


def relay_capacity(
    ctx: SmsContext, reader: Person, key: str, values: dict[str, str], encoding: str
) -> int:
    """How many characters a relayed text may have, in ``encoding``, within
    RELAY_MAX_SEGMENTS once its prefix ("Rosa (task 4821): ") is counted."""
    per_part = 153 if encoding == "GSM-7" else 67
    prefix = measure(ctx, reader, key, {**values, "message": ""}).cost.units
    single = 160 if encoding == "GSM-7" else 70
    room = single if ctx.relay_max_segments == 1 else per_part * ctx.relay_max_segments
    return max(room - prefix, 0)


def strip_numbers(text: str, region: str, *, words: NumberWords | None = None) -> str:
    """``text`` with any phone number in it replaced, however it is written (digits of
    any script, number words, separators: sms.phones.scan_numbers), for relays and
    shared details."""
    return _removed(text, scan_numbers(text, region, words=words).spans)


def _removed(text: str, spans: list[tuple[int, int]]) -> str:
    for start, end in sorted(spans, reverse=True):
        text = text[:start] + "[number removed]" + text[end:]
    return text


def raise_urgency(req: AidRequest, urgent: bool) -> bool:
    if urgent and req.urgency is not Urgency.URGENT:
        req.urgency = Urgency.URGENT
        return True
    return False
