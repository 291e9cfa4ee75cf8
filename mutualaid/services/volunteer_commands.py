"""What a coordinator does to a volunteer, from the dashboard or the API: vet, pause,
resume, block."""

from __future__ import annotations

import datetime as dt

from sqlalchemy.orm import Session

from mutualaid.models import Offer
from mutualaid.services import availability
from mutualaid.services.audit import Actor, record

ACTIONS = ("vet", "pause", "resume", "block")


def act(session: Session, offer: Offer, action: str, *, actor: Actor, now: dt.datetime) -> bool:
    """Do ``action`` (one of ACTIONS) to the volunteer; False when there was nothing to
    change (already vetted, paused …)."""
    if action == "vet":
        return vet(session, offer, actor=actor, now=now)
    if action == "block":
        return availability.block(session, offer.person, actor=actor)
    if action in ("pause", "resume"):
        return availability.set_paused(
            session, offer, action == "pause", actor=actor, reason="coordinator"
        )
    raise ValueError(f"unknown volunteer action {action!r}")


def vet(session: Session, offer: Offer, *, actor: Actor, now: dt.datetime) -> bool:
    """The volunteer may now take categories that need vetting."""
    if offer.vetted:
        return False
    offer.vetted, offer.vetted_at, offer.vetted_by = True, now, actor.id
    record(session, actor, "offer.vetted", subject_type="offers", subject_id=offer.id)
    return True
