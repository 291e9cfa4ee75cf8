"""Volunteers' signed links: see a proposal, accept or decline it. Only a POST changes
anything (link previewers open GETs)."""

from __future__ import annotations

from flask import Blueprint, abort, current_app, render_template, request

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import Match, MatchStatus, utcnow
from mutualaid.services import lifecycle
from mutualaid.services.audit import Actor
from mutualaid.services.links import token_is_valid, token_match_id
from mutualaid.web.i18n import current_language

bp = Blueprint("links", __name__)


def _match_for(token: str) -> Match:
    """The match this token is for: 404 when tampered or unknown, 410 when the proposal is
    no longer waiting for an answer."""
    match_id = token_match_id(token)
    match = db.session.get(Match, match_id) if match_id is not None else None
    if match is None or not token_is_valid(current_app.config["SECRET_KEY"], token, match):
        abort(404)
    return match


def _gone(match: Match) -> bool:
    return match.status is not MatchStatus.PROPOSED or (
        match.expires_at is not None and match.expires_at <= utcnow()
    )


@bp.get("/t/<token>")
def proposal(token: str):
    match = _match_for(token)
    if match.status is MatchStatus.ACCEPTED:
        return _task(match)
    if _gone(match):
        return render_template("volunteer/gone.html", match=match), 410
    return _page(match, token)


def _page(match: Match, token: str, status: int = 200):
    req = match.request
    categories = current_app.extensions["categories"]
    category = (
        categories[req.category].label(current_language())
        if req.category in categories
        else req.category
    )
    language = current_language()
    if language not in current_app.extensions["sms_catalogue"].languages:
        language = current_app.config["LANGUAGES"][0]
    # Rounded as in the proposal text ("about 2 miles"), never "0.0 km".
    distance = adapters.sms_context().distance(match.km, language) if match.km is not None else ""
    response = render_template(
        "volunteer/proposal.html",
        match=match,
        req=req,
        category=category,
        token=token,
        distance=distance,
    )
    return response, status


def _task(match: Match):
    """The whole of an accepted task, for its volunteer: what the task text had to cut
    to stay within its segments (the details), with the address they were sent — never a
    phone number."""
    from mutualaid.services.lifecycle import strip_numbers

    req = match.request
    region = current_app.config["PHONE_REGION"]
    words = current_app.extensions["sms_keywords"].numbers
    categories = current_app.extensions["categories"]
    found = categories.get(req.category)
    return render_template(
        "volunteer/task.html",
        match=match,
        category=found.label(current_language()) if found else req.category,
        name=req.requester.name or "",
        place=strip_numbers(
            req.address or req.location_label or req.location_text or "?", region, words=words
        ),
        details=strip_numbers(req.details or "", region, words=words),
    )


@bp.post("/t/<token>")
def answer(token: str):
    match = _match_for(token)
    if _gone(match):
        return render_template("volunteer/gone.html", match=match), 410
    ctx = adapters.sms_context()
    actor = Actor.person(match.offer.person_id)
    if request.form.get("answer") == "yes":
        outcome = lifecycle.accept(db.session, ctx, match, actor=actor)
    elif request.form.get("answer") == "no":
        outcome = lifecycle.decline(db.session, ctx, match, actor=actor)
    else:
        abort(400, description="answer must be yes or no")
    if outcome is lifecycle.Outcome.TOO_LATE:
        return render_template("volunteer/gone.html", match=match), 410
    return render_template(
        "volunteer/answered.html", match=match, accepted=match.status is MatchStatus.ACCEPTED
    )
