"""The dashboard's JSON API under /api: the same data and actions as the pages (the same
services), with a bearer token per account (read for viewers, write for coordinators and
admins), always with masked phone numbers and approximate places; described at
/api/openapi.json (web/openapi.py).

Each route is one unit of work; a service's refusal rolls it back and is answered as 409
(Conflict: the record's state does not allow it now) or 422 (the input)."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from mutualaid import adapters
from mutualaid.extensions import csrf, db
from mutualaid.models import AidRequest, Match, Offer, Role, utcnow
from mutualaid.services import (
    assignment,
    details,
    notes,
    queues,
    reports,
    request_commands,
    volunteer_commands,
)
from mutualaid.services.accounts import account_for_token
from mutualaid.services.audit import Actor
from mutualaid.services.errors import Conflict, Refused
from mutualaid.services.privacy import Privacy
from mutualaid.web import query
from mutualaid.web.openapi import OPENAPI
from mutualaid.web.runs import run_now

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # no cookies here: a bearer token cannot be sent by another site's form

RIGHTS = {
    "read": {Role.VIEWER, Role.COORDINATOR, Role.ADMIN},
    "write": {Role.COORDINATOR, Role.ADMIN},
}


def require(action: str) -> Callable:
    def decorator(view: Callable) -> Callable:
        @functools.wraps(view)
        def wrapped(*args: Any, **kwargs: Any) -> Any:
            scheme, _, token = request.headers.get("Authorization", "").partition(" ")
            account = (
                account_for_token(db.session, token.strip()) if scheme.lower() == "bearer" else None
            )
            if account is None:
                return _error(401, "a valid bearer token is required")
            if account.role not in RIGHTS[action]:
                return _error(403, f"your role may not {action}")
            g.api_account = account
            if any(v > query.MAX_ID for k, v in kwargs.items() if k.endswith("_id")):
                return _error(404, "no such record")
            return view(*args, **kwargs)

        return wrapped

    return decorator


def _error(status: int, message: str):
    response = jsonify(error=message)
    response.status_code = status
    if status == 401:
        response.headers["WWW-Authenticate"] = 'Bearer realm="mutualaid"'
    return response


@bp.errorhandler(HTTPException)
def _http_error(exc: HTTPException):
    return _error(exc.code or 500, exc.description or exc.name)


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    """A service refused: nothing was stored (the unit of work rolled back)."""
    return _error(409 if isinstance(exc, Conflict) else 422, str(exc))


@bp.app_errorhandler(404)
@bp.app_errorhandler(405)
def _unrouted(exc: HTTPException):
    """An address or method no route takes: JSON under /api/, the usual page elsewhere."""
    if request.path.startswith(bp.url_prefix + "/"):
        return _http_error(exc)
    return exc


MAX_JSON_DEPTH = 20


def _too_deep(raw: bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether JSON text nests arrays or objects more than ``limit`` deep (checked before
    parsing: Python's parser recurses, and a deep enough body exhausts the stack)."""
    depth, in_string, escaped = 0, False, False
    for byte in raw:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > limit:
                return True
        elif byte in (0x5D, 0x7D):
            depth -= 1
    return False


def _body() -> dict:
    """The JSON object sent, {} when there is none; a list or a number is refused (422),
    a body nested deeper than MAX_JSON_DEPTH too (400)."""
    if _too_deep(request.get_data(cache=True)):
        abort(400, f"the JSON body is nested more than {MAX_JSON_DEPTH} deep")
    body = request.get_json(silent=True)
    if body is None:
        return {}
    if not isinstance(body, dict):
        abort(422, "the body must be a JSON object")
    return body


def _actor() -> Actor:
    return Actor.coordinator(g.api_account.id)


def _privacy() -> Privacy:
    return Privacy(False, current_app.config["PHONE_REGION"])


def _time(value) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _request_json(r: AidRequest, privacy: Privacy) -> dict:
    return {
        "id": r.id,
        "ref": r.ref,
        "status": r.status.value,
        "category": r.category,
        "urgency": r.urgency.value,
        "channel": r.channel.value,
        "place": privacy.place(r),
        "approx_location": privacy.coords(r.lat, r.lon),
        "flagged": r.flagged,
        "flag_reason": r.flag_reason,
        "requester_name": r.requester.name,
        "requester_phone": privacy.phone(r.requester.phone),
        "details": privacy.text(r.details),
        "created_at": _time(r.created_at),
        "matched_at": _time(r.matched_at),
        "closed_at": _time(r.closed_at),
    }


def _match_json(m: Match) -> dict:
    return {
        "id": m.id,
        "request_id": m.request_id,
        "volunteer_id": m.offer_id,
        "status": m.status.value,
        "km": m.km,
        "why": m.why,
        "run_id": m.run_id,
        "proposed_at": _time(m.proposed_at),
        "expires_at": _time(m.expires_at),
        "answered_at": _time(m.answered_at),
    }


def _volunteer_json(o: Offer, load: int, privacy: Privacy) -> dict:
    return {
        "id": o.id,
        "name": o.person.name,
        "phone": privacy.phone(o.person.phone),
        "categories": o.categories,
        "place": privacy.place(o),
        "approx_location": privacy.coords(o.lat, o.lon),
        "radius_km": o.radius_km,
        "capacity": o.capacity,
        "load": load,
        "vetted": o.vetted,
        "paused": o.paused,
        "blocked": o.person.blocked,
    }


@bp.get("/openapi.json")
def openapi():
    return jsonify(OPENAPI)


@bp.get("/requests")
@require("read")
def requests():
    f = query.request_filter(request.args)
    rows, total = queues.list_requests(db.session, f, now=utcnow())
    privacy = _privacy()
    return jsonify(
        total=total,
        page=f.page,
        page_size=queues.PAGE_SIZE,
        items=[_request_json(r, privacy) for r in rows],
    )


@bp.get("/requests/<int:request_id>")
@require("read")
def request_detail(request_id: int):
    page = details.request_page(db.session, request_id)
    if page is None:
        return _error(404, "no such request")
    return jsonify(
        request=_request_json(page.req, _privacy()),
        matches=[_match_json(m) for m in page.matches],
        history=[
            {
                "at": _time(e.at),
                "actor_type": e.actor_type,
                "actor_id": e.actor_id,
                "action": e.action,
                "from_state": e.from_state,
                "to_state": e.to_state,
            }
            for e in page.history
        ],
    )


def _request_or_404(request_id: int) -> AidRequest:
    req = db.session.get(AidRequest, request_id)
    if req is None:
        abort(404, "no such request")
    return req


def _note_json(n: notes.NoteView, privacy: Privacy) -> dict:
    return {
        "id": n.id,
        "author": n.author,
        "created_at": _time(n.created_at),
        "body": privacy.text(n.body),
    }


@bp.get("/requests/<int:request_id>/notes")
@require("read")
def request_notes(request_id: int):
    req = _request_or_404(request_id)
    privacy = _privacy()
    return jsonify(items=[_note_json(n, privacy) for n in notes.notes_on(db.session, req.id)])


@bp.post("/requests/<int:request_id>/notes")
@require("write")
def request_note_add(request_id: int):
    req = _request_or_404(request_id)
    body = _body().get("body")
    if not isinstance(body, str):
        return _error(422, "body (the note's text) is required")
    note = notes.add_note(db.session, req, body, actor=_actor(), now=utcnow())
    view = notes.NoteView(note.id, note.body, note.created_at, g.api_account.email)
    return jsonify(note=_note_json(view, _privacy())), 201


@bp.post("/requests/<int:request_id>/assign")
@require("write")
def request_assign(request_id: int):
    req = _request_or_404(request_id)
    body = _body()
    offer_id, agreed = body.get("volunteer_id"), body.get("agreed", False)
    if not isinstance(offer_id, int) or isinstance(offer_id, bool):
        return _error(422, "volunteer_id (an integer) is required")
    if not isinstance(agreed, bool):
        return _error(422, "agreed must be true or false")
    match, _km = assignment.assign(
        db.session,
        adapters.sms_context(),
        req,
        offer_id,
        max_km=current_app.config["MAX_KM"],
        actor=_actor(),
        agreed=agreed,
        link_for=adapters.proposal_links(),
    )
    return jsonify(match=_match_json(match)), 201


@bp.post("/requests/<int:request_id>/cancel")
@require("write")
def request_cancel(request_id: int):
    req = _request_or_404(request_id)
    request_commands.cancel(db.session, adapters.sms_context(), req, actor=_actor())
    return jsonify(request=_request_json(req, _privacy()))


@bp.post("/requests/<int:request_id>/complete")
@require("write")
def request_complete(request_id: int):
    req = _request_or_404(request_id)
    request_commands.complete(db.session, adapters.sms_context(), req, actor=_actor())
    return jsonify(request=_request_json(req, _privacy()))


@bp.get("/volunteers")
@require("read")
def volunteers():
    f = query.volunteer_filter(request.args)
    rows, total = queues.list_volunteers(db.session, f)
    privacy = _privacy()
    return jsonify(
        total=total,
        page=f.page,
        page_size=queues.PAGE_SIZE,
        items=[_volunteer_json(o, load, privacy) for o, load in rows],
    )


@bp.get("/volunteers/<int:offer_id>")
@require("read")
def volunteer_detail(offer_id: int):
    page = details.volunteer_page(db.session, offer_id)
    if page is None:
        return _error(404, "no such volunteer")
    return jsonify(
        volunteer=_volunteer_json(page.offer, page.load, _privacy()),
        matches=[_match_json(m) for m in page.matches],
    )


@bp.post("/volunteers/<int:offer_id>/<any(vet, pause, resume, block):action>")
@require("write")
def volunteer_action(offer_id: int, action: str):
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        return _error(404, "no such volunteer")
    changed = volunteer_commands.act(db.session, offer, action, actor=_actor(), now=utcnow())
    return jsonify(changed=changed, volunteer=_volunteer_json(offer, 0, _privacy()))


@bp.get("/runs")
@require("read")
def runs():
    return jsonify(
        items=[
            {
                "id": r.id,
                "started_at": _time(r.started_at),
                "trigger": r.trigger,
                "triggered_by": r.triggered_by,
                "requests_considered": r.requests_considered,
                "volunteers_considered": r.volunteers_considered,
                "proposed": r.proposed,
                "unmatched": r.unmatched,
                "total_km": r.total_km,
                "solve_seconds": r.solve_seconds,
                "proven_optimal": r.proven_optimal,
            }
            for r in queues.recent_runs(db.session)
        ]
    )


@bp.post("/matching/<any(preview, send):mode>")
@require("write")
def matching(mode: str):
    only = _body().get("request_ids")
    if only is not None and not (
        isinstance(only, list)
        and all(
            isinstance(i, int) and not isinstance(i, bool) and 0 < i <= query.MAX_ID for i in only
        )
    ):
        return _error(422, "request_ids must be a list of request ids (positive integers)")
    done = run_now(
        triggered_by=g.api_account.id,
        dry_run=mode == "preview",
        only_requests=set(only) if only is not None else None,
    )
    if done is None:
        return _error(409, "another matching run is in progress")
    run, plan = done
    return jsonify(
        dry_run=mode == "preview",
        proposed=len(plan.proposed) if mode == "send" else len(plan.result.pairs),
        pairs=[
            {
                "request_id": int(p.need[1:]),
                "volunteer_id": int(p.volunteer[1:]),
                "km": p.km,
                "why": p.why,
            }
            for p in plan.result.pairs
        ],
        unmatched=[
            {"request_id": int(u.need[1:]), "reason": u.reason, "detail": u.detail}
            for u in plan.result.unmatched
        ],
        requests_considered=run.requests_considered,
        volunteers_considered=run.volunteers_considered,
    )


@bp.get("/figures")
@require("read")
def figures():
    from zoneinfo import ZoneInfo

    days_n = query.days(request.args)
    fig = reports.figures(
        db.session, now=utcnow(), days=days_n, tz=ZoneInfo(current_app.config["TIMEZONE"])
    )
    return jsonify(
        days=days_n,
        requests=fig.total,
        served=fig.served,
        share_served=fig.share_served,
        median_hours_to_acceptance=fig.median_hours,
        p90_hours_to_acceptance=fig.p90_hours,
        per_day=[{"date": d.isoformat(), "requests": n} for d, n in fig.days],
        by_category=[
            {"category": c, "requests": n, "served": s, "median_hours": m}
            for c, n, s, m in fig.by_category
        ],
    )
