"""Matches (a volunteer proposed for, then helping with, a request) and the runs behind them."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import JSON, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from mutualaid.models.base import Base, utcnow
from mutualaid.models.enums import MatchStatus, enum_column

if TYPE_CHECKING:
    from mutualaid.models.offers import Offer
    from mutualaid.models.requests import AidRequest

_LIVE = "status IN ('proposed', 'accepted')"


class Match(Base):
    """A pairing. ``status`` changes only through services.transitions.change_match_status."""

    __tablename__ = "matches"
    __table_args__ = (
        # The database itself refuses a second live match for one request.
        Index(
            "uq_matches_live_request",
            "request_id",
            unique=True,
            sqlite_where=text(_LIVE),
            postgresql_where=text(_LIVE),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    request_id: Mapped[int] = mapped_column(ForeignKey("aid_requests.id"), index=True)
    offer_id: Mapped[int] = mapped_column(ForeignKey("offers.id"), index=True)
    run_id: Mapped[int | None] = mapped_column(ForeignKey("matching_runs.id"))
    status: Mapped[MatchStatus] = mapped_column(
        enum_column(MatchStatus, "match_status"),
        default=MatchStatus.PROPOSED,
        server_default=MatchStatus.PROPOSED.value,
    )
    # Short code the volunteer texts back ("YES 4821") when several proposals are pending.
    code: Mapped[str] = mapped_column(String(8))
    km: Mapped[float | None]
    why: Mapped[str] = mapped_column(Text, default="", server_default="")
    # The coordinator who assigned it by hand, if any.
    assigned_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    proposed_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[dt.datetime | None] = mapped_column(index=True)
    answered_at: Mapped[dt.datetime | None]
    closed_at: Mapped[dt.datetime | None]
    # How many digits in a row each side's last relayed text ended with (as its reader saw
    # them): a number split over texts ("718 555", "0101") is caught in the next one.
    volunteer_digits: Mapped[int] = mapped_column(default=0, server_default="0")
    requester_digits: Mapped[int] = mapped_column(default=0, server_default="0")

    request: Mapped[AidRequest] = relationship()
    offer: Mapped[Offer] = relationship()

    def __repr__(self) -> str:
        return f"<Match {self.id} {self.status.value}>"


class MatchingRun(Base):
    """One run of the engine: when, why, what it found and how long it took."""

    __tablename__ = "matching_runs"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[dt.datetime | None]
    # "schedule", "event", "coordinator", "cli"
    trigger: Mapped[str] = mapped_column(String(20))
    triggered_by: Mapped[int | None] = mapped_column(ForeignKey("accounts.id"))
    dry_run: Mapped[bool] = mapped_column(default=False, server_default=false())
    requests_considered: Mapped[int] = mapped_column(default=0, server_default="0")
    volunteers_considered: Mapped[int] = mapped_column(default=0, server_default="0")
    proposed: Mapped[int] = mapped_column(default=0, server_default="0")
    unmatched: Mapped[int] = mapped_column(default=0, server_default="0")
    total_km: Mapped[float] = mapped_column(default=0.0, server_default="0")
    solve_seconds: Mapped[float] = mapped_column(default=0.0, server_default="0")
    proven_optimal: Mapped[bool | None]
    # A review run's prepared preview (MATCH_MODE = review): the pairs as
    # [request_id, offer_id, km, why] and the unmatched as [request_id, reason, detail],
    # for a coordinator to send. Ids and reasons only: nothing personal.
    preview: Mapped[dict[str, Any] | None] = mapped_column(JSON)

    def __repr__(self) -> str:
        return f"<MatchingRun {self.id}>"
