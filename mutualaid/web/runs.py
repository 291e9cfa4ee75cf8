"""Matching runs started from a web page or the API: the run lock held until the request's
commit, and the whole run (its proposals included) in the request's one unit of work."""

from __future__ import annotations

from flask import current_app

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import MatchingRun
from mutualaid.services import matching_runs
from mutualaid.unit_of_work import current


def run_now(
    *, triggered_by: int, dry_run: bool = False, only_requests: set[int] | None = None
) -> tuple[MatchingRun, matching_runs.Plan] | None:
    """A coordinator's matching run (a preview with ``dry_run``); None when another run
    holds the lock. Call it before anything else is written in this request."""
    if not hold_run_lock():
        return None
    return matching_runs.run_matching(
        db.session,
        adapters.sms_context(),
        matching_runs.RunSettings.from_config(current_app.config),
        trigger="coordinator",
        triggered_by=triggered_by,
        dry_run=dry_run,
        only_requests=only_requests,
        link_for=adapters.proposal_links(),
    )


def hold_run_lock() -> bool:
    """Take the run lock until this request's commit (False: another run holds it)."""
    return current().hold(matching_runs.run_lock(db.engine))
