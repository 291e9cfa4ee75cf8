"""A request's flag: why it needs a coordinator's attention (no location found, open too
long, refused too often, the requester said they got no help, a coordinator's reason).
One function sets it, writing its audit event, whatever the source."""

from __future__ import annotations

from sqlalchemy.orm import Session

from mutualaid.models import AidRequest
from mutualaid.services.audit import Actor, record

MAX_REASON = 200


def flag(session: Session, req: AidRequest, reason: str, *, actor: Actor) -> bool:
    """Flag ``req`` for coordinators with ``reason`` (printable, at most MAX_REASON
    characters); False when it was already flagged for exactly that. A coordinator's
    typed reason is not copied into the audit event (free text, like a note)."""
    reason = "".join(ch for ch in reason if ch.isprintable()).strip()[:MAX_REASON]
    if not reason:
        raise ValueError("a flag needs a reason")
    if req.flagged and req.flag_reason == reason:
        return False
    req.flagged, req.flag_reason = True, reason
    detail = {} if actor.type == "coordinator" else {"reason": reason}
    record(
        session, actor, "request.flagged", subject_type="aid_requests", subject_id=req.id, **detail
    )
    return True


def unflag(session: Session, req: AidRequest, reason: str, *, actor: Actor) -> bool:
    """Clear ``req``'s flag if it is flagged for ``reason`` (the cause is gone: it has a
    location now); False when it was not."""
    if not (req.flagged and req.flag_reason == reason):
        return False
    req.flagged, req.flag_reason = False, None
    record(
        session,
        actor,
        "request.unflagged",
        subject_type="aid_requests",
        subject_id=req.id,
        reason=reason,
    )
    return True
