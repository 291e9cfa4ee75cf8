"""What a coordinator does to a request, from the dashboard or the API: cancel, complete,
merge a duplicate, edit, flag, and the same on many at once. Each raises Conflict
(nothing changed) when the request's state no longer allows it."""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Match, MatchStatus, RequestStatus, Urgency
from mutualaid.services import flags, lifecycle
from mutualaid.services.audit import Actor, record
from mutualaid.services.details import find_by_ref
from mutualaid.services.errors import Conflict, Refused
from mutualaid.services.intake import place_request
from mutualaid.services.location import Resolver
from mutualaid.services.notify import SmsContext


def cancel(session: Session, ctx: SmsContext, req: AidRequest, *, actor: Actor) -> None:
    """Cancel ``req`` (its volunteer, if any, is told)."""
    outcome = lifecycle.cancel_request(session, ctx, req, actor=actor)
    if outcome is lifecycle.Outcome.NOT_ALLOWED:
        raise Conflict(
            "not_cancellable",
            f"the request is {req.status.value}: only an open or matched one",
            state=req.status.value,
        )
    if outcome is not lifecycle.Outcome.DONE:
        raise Conflict("request_changed", "the request changed meanwhile")


def complete(session: Session, ctx: SmsContext, req: AidRequest, *, actor: Actor) -> Match:
    """Complete the request's accepted match; the match."""
    accepted = session.scalar(
        select(Match).where(Match.request_id == req.id, Match.status == MatchStatus.ACCEPTED)
    )
    if accepted is None:
        raise Conflict(
            "complete_needs_accepted",
            "only a request with an accepted volunteer can be completed",
        )
    if lifecycle.complete(session, ctx, accepted, actor=actor) is not lifecycle.Outcome.DONE:
        raise Conflict("match_changed", "the match changed meanwhile")
    return accepted


def merge(
    session: Session, ctx: SmsContext, duplicate: AidRequest, into_ref: str, *, actor: Actor
) -> AidRequest:
    """``duplicate`` repeats the request ``into_ref``: cancel it (its volunteer, if any, is
    told) and record where it went; the request it went into."""
    into = find_by_ref(session, into_ref)
    if into is None or into.id == duplicate.id:
        raise Refused("merge_needs_ref", "give the reference of another request to merge into")
    if lifecycle.cancel_request(session, ctx, duplicate, actor=actor) is not lifecycle.Outcome.DONE:
        raise Conflict("request_changed", "the request changed meanwhile")
    _record_merge(session, duplicate, into, actor=actor)
    return into


def cancel_many(
    session: Session, ctx: SmsContext, requests: Iterable[AidRequest], *, actor: Actor
) -> int:
    """Cancel each of ``requests`` that still can be; how many were."""
    cancelled = 0
    for req in requests:
        outcome = lifecycle.cancel_request(session, ctx, req, actor=actor)
        cancelled += outcome is lifecycle.Outcome.DONE
    return cancelled


def flag_many(
    session: Session, requests: Iterable[AidRequest], reason: str, *, actor: Actor
) -> int:
    """Flag each of ``requests`` with ``reason``; how many were not flagged so already."""
    return sum(flags.flag(session, req, reason, actor=actor) for req in requests)


def _record_merge(
    session: Session, duplicate: AidRequest, into: AidRequest, *, actor: Actor
) -> None:
    """Note that ``duplicate`` (already cancelled by the caller) was merged into ``into``."""
    record(
        session,
        actor,
        "request.merged",
        subject_type="aid_requests",
        subject_id=duplicate.id,
        into=into.ref,
    )
    record(
        session,
        actor,
        "request.merged_from",
        subject_type="aid_requests",
        subject_id=into.id,
        duplicate=duplicate.ref,
    )


@dataclass(frozen=True)
class Changes:
    """What a coordinator's edit form says; None leaves a field as it is."""

    category: str | None = None
    urgency: Urgency | None = None
    details: str | None = None
    language: str | None = None
    address: str | None = None  # "" clears it
    location: str | None = None  # a place, ZIP, address or coordinates, resolved


def edit(
    session: Session,
    req: AidRequest,
    *,
    category: str | None = None,
    urgency: Urgency | None = None,
    categories: Mapping[str, Any],
    actor: Actor,
    changes: Changes | None = None,
    resolver: Resolver | None = None,
    languages: Collection[str] = (),
) -> bool:
    """Change any field of an open request: what is needed, how soon, its details, the
    requester's language, the private address, and its place (typed as a gazetteer name, a
    ZIP, an address or coordinates; refused when nothing places it). The next matching
    run sees it. False when nothing changed. Refused for an unknown category or language,
    or a request no longer open. The audit event names what changed, never the address
    or the details themselves."""
    asked = changes or Changes()
    category = asked.category or category
    urgency = asked.urgency or urgency
    if req.status is not RequestStatus.OPEN:
        raise Refused("not_open", "only an open request can be edited")
    if category is not None and category not in categories:
        raise Refused("unknown_category", "unknown category")
    if asked.language is not None and asked.language not in languages:
        raise Refused("unknown_language", "unknown language")
    changed: dict[str, Any] = {}
    if category is not None and req.category != category:
        changed["category"] = f"{req.category} -> {category}"
        req.category = category
    if urgency is not None and req.urgency is not urgency:
        changed["urgency"] = f"{req.urgency.value} -> {urgency.value}"
        req.urgency = urgency
    if asked.language is not None and req.language != asked.language:
        changed["language"] = f"{req.language} -> {asked.language}"
        req.language = asked.language
    if asked.details is not None and req.details != asked.details.strip()[:2000]:
        req.details = asked.details.strip()[:2000]
        changed["details"] = "changed"
    address = None if asked.address is None else asked.address.strip()[:200]
    if address is not None and (req.address or "") != address:
        req.address = address or None
        changed["address"] = "changed" if address else "removed"
    place = (asked.location or "").strip()
    if place and (place not in (req.location_text, req.location_label) or req.needs_location):
        _place(session, req, place, resolver, actor=actor)
        changed["place"] = req.location_label
    elif address and req.needs_location and resolver is not None:
        found = resolver.resolve_address(address)
        if found is not None:
            place_request(session, req, address, found, actor=actor)
            changed["place"] = req.location_label
    if changed:
        record(
            session, actor, "request.edited", subject_type="aid_requests", subject_id=req.id,
            **changed,
        )  # fmt: skip
    return bool(changed)


def _place(
    session: Session, req: AidRequest, typed: str, resolver: Resolver | None, *, actor: Actor
) -> None:
    if resolver is None:
        raise Refused("place_not_found", "no place resolver", place=typed)
    found, address = resolver.resolve_text(typed)
    if found is None:
        raise Refused("place_not_found", f"no place found for {typed!r}", place=typed)
    place_request(session, req, typed, found, actor=actor, address=address or None)
