"""The dashboard's JSON API under /api: the same data and actions as the pages, with a
bearer token per account (read for viewers, write for coordinators and admins), always
with masked phone numbers and approximate places; described at /api/openapi.json."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

from flask import Blueprint, abort, current_app, g, jsonify, request
from werkzeug.exceptions import HTTPException

from mutualaid import jobs
from mutualaid.extensions import csrf, db
from mutualaid.models import (
    AidRequest,
    Channel,
    Match,
    MatchStatus,
    Offer,
    RequestStatus,
    Role,
    Urgency,
    utcnow,
)
from mutualaid.services import dashboard as queries
from mutualaid.services import lifecycle, notes
from mutualaid.services.accounts import account_for_token
from mutualaid.services.audit import Actor
from mutualaid.web.ports import sms_context

bp = Blueprint("api", __name__, url_prefix="/api")
csrf.exempt(bp)  # no cookies here: a bearer token cannot be sent by another site's form

RIGHTS = {
    "read": {Role.VIEWER, Role.COORDINATOR, Role.ADMIN},
    "write": {Role.COORDINATOR, Role.ADMIN},
}
MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's, and so ours)


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
            if any(v > MAX_ID for k, v in kwargs.items() if k.endswith("_id")):
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


def _privacy() -> queries.Privacy:
    return queries.Privacy(False, current_app.config["PHONE_REGION"])


def _time(value) -> str | None:
    return value.isoformat(timespec="seconds") if value is not None else None


def _request_json(r: AidRequest, privacy: queries.Privacy) -> dict:
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


def _volunteer_json(o: Offer, load: int, privacy: queries.Privacy) -> dict:
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
    f = queries.RequestFilter.from_args(request.args)
    rows, total = queries.list_requests(db.session, f, now=utcnow())
    privacy = _privacy()
    return jsonify(
        total=total,
        page=f.page,
        page_size=queries.PAGE_SIZE,
        items=[_request_json(r, privacy) for r in rows],
    )


@bp.get("/requests/<int:request_id>")
@require("read")
def request_detail(request_id: int):
    page = queries.request_page(db.session, request_id)
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


def _note_json(n: notes.NoteView, privacy: queries.Privacy) -> dict:
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
    try:
        note = notes.add_note(db.session, req, body, actor=_actor(), now=utcnow())
    except ValueError as exc:
        db.session.rollback()
        return _error(422, str(exc))
    db.session.commit()
    view = notes.NoteView(note.id, note.body, note.created_at, g.api_account.email)
    return jsonify(note=_note_json(view, _privacy())), 201


@bp.post("/requests/<int:request_id>/assign")
@require("write")
def request_assign(request_id: int):
    req = _request_or_404(request_id)
    offer_id = _body().get("volunteer_id")
    if not isinstance(offer_id, int) or isinstance(offer_id, bool):
        return _error(422, "volunteer_id (an integer) is required")
    options = queries.candidates(db.session, req, max_km=current_app.config["MAX_KM"], limit=10_000)
    chosen = next((c for c in options if c.offer.id == offer_id), None)
    if chosen is None:
        return _error(409, "that volunteer cannot take this request now")
    match = lifecycle.assign(
        db.session, sms_context(db.session), req, chosen.offer, actor=_actor(), km=chosen.km
    )
    if match is None:
        db.session.rollback()
        return _error(409, "the request changed meanwhile; nothing was assigned")
    db.session.commit()
    return jsonify(match=_match_json(match)), 201


@bp.post("/requests/<int:request_id>/cancel")
@require("write")
def request_cancel(request_id: int):
    req = _request_or_404(request_id)
    outcome = lifecycle.cancel_request(db.session, sms_context(db.session), req, actor=_actor())
    db.session.commit()
    if outcome is lifecycle.Outcome.NOT_ALLOWED:
        return _error(409, f"the request is {req.status.value}: only an open or matched one")
    if outcome is not lifecycle.Outcome.DONE:
        return _error(409, "the request changed meanwhile")
    return jsonify(request=_request_json(req, _privacy()))


@bp.post("/requests/<int:request_id>/complete")
@require("write")
def request_complete(request_id: int):
    req = _request_or_404(request_id)
    accepted = db.session.scalar(
        db.select(Match).where(Match.request_id == req.id, Match.status == MatchStatus.ACCEPTED)
    )
    if accepted is None:
        return _error(409, "only a request with an accepted volunteer can be completed")
    outcome = lifecycle.complete(db.session, sms_context(db.session), accepted, actor=_actor())
    db.session.commit()
    if outcome is not lifecycle.Outcome.DONE:
        return _error(409, "the match changed meanwhile")
    return jsonify(request=_request_json(req, _privacy()))


@bp.get("/volunteers")
@require("read")
def volunteers():
    f = queries.VolunteerFilter.from_args(request.args)
    rows, total = queries.list_volunteers(db.session, f)
    privacy = _privacy()
    return jsonify(
        total=total,
        page=f.page,
        page_size=queries.PAGE_SIZE,
        items=[_volunteer_json(o, load, privacy) for o, load in rows],
    )


@bp.get("/volunteers/<int:offer_id>")
@require("read")
def volunteer_detail(offer_id: int):
    page = queries.volunteer_page(db.session, offer_id)
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
    if action == "vet":
        changed = queries.vet(db.session, offer, actor=_actor(), now=utcnow())
    elif action == "block":
        changed = queries.block(db.session, offer.person, actor=_actor())
    else:
        changed = queries.set_paused(db.session, offer, action == "pause", actor=_actor())
    db.session.commit()
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
            for r in queries.recent_runs(db.session)
        ]
    )


@bp.post("/matching/<any(preview, send):mode>")
@require("write")
def matching(mode: str):
    only = _body().get("request_ids")
    if only is not None and not (
        isinstance(only, list)
        and all(isinstance(i, int) and not isinstance(i, bool) and 0 < i <= MAX_ID for i in only)
    ):
        return _error(422, "request_ids must be a list of request ids (positive integers)")
    done = jobs.run_matching(
        current_app._get_current_object(),
        trigger="coordinator",
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

    days = request.args.get("days", "30")
    # isdigit() alone lets "²" through, which int() cannot read; 5 digits are plenty.
    days_n = int(days) if days.isascii() and days.isdigit() and len(days) < 6 else 30
    days_n = min(days_n, 365) or 30
    fig = queries.figures(
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


def _op(summary: str, action: str, *, body: dict | None = None, params: list | None = None):
    op: dict[str, Any] = {
        "summary": summary,
        "security": [{"bearer": []}],
        "responses": {
            "200": {"description": "OK", "content": {"application/json": {}}},
            "401": {"$ref": "#/components/responses/Error"},
            "403": {"$ref": "#/components/responses/Error"},
        },
        "x-needs": action,
    }
    if params:
        op["parameters"] = params
    if body:
        op["requestBody"] = {"content": {"application/json": {"schema": body}}}
    return op


def _path_id(name: str) -> dict:
    return {"name": name, "in": "path", "required": True, "schema": {"type": "integer"}}


def _query(name: str, schema: dict) -> dict:
    return {"name": name, "in": "query", "required": False, "schema": schema}


def _object(required: list[str] | None = None, **properties: dict) -> dict:
    schema: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        schema["required"] = required
    return schema


def _json(description: str, schema: dict) -> dict:
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _answers(
    op: dict,
    responses: dict,
    *,
    missing: bool = False,
    invalid: bool = False,
    conflict: bool = False,
) -> dict:
    """``op`` with its own success ``responses`` (replacing the generic 200), and 404 for a
    record that does not exist, 422 for a body it cannot take, 409 for an action the
    record's state (or another run) does not allow now."""
    op["responses"].pop("200", None)
    op["responses"].update(responses)
    for code, applies in (("404", missing), ("422", invalid), ("409", conflict)):
        if applies:
            op["responses"][code] = {"$ref": "#/components/responses/Error"}
    return op


def _record(**properties: dict) -> dict:
    """An object that always has all of ``properties``."""
    return _object(required=list(properties), **properties)


def _list_of(item: dict, **more: dict) -> dict:
    return _record(**more, items={"type": "array", "items": item})


NULLABLE_STRING = {"type": ["string", "null"]}
NOTE = _object(
    id={"type": "integer"},
    author=NULLABLE_STRING,
    created_at={"type": "string", "format": "date-time"},
    body={"type": "string"},
)
INTEGER = {"type": "integer"}
NUMBER = {"type": "number"}
BOOLEAN = {"type": "boolean"}
STRING = {"type": "string"}
NULLABLE_NUMBER = {"type": ["number", "null"]}
NULLABLE_INTEGER = {"type": ["integer", "null"]}


def _enum(values) -> dict:
    return {"type": "string", "enum": [v.value for v in values]}


REQUEST = _record(
    id=INTEGER,
    ref=STRING,
    status=_enum(RequestStatus),
    category=STRING,
    urgency=_enum(Urgency),
    channel=_enum(Channel),
    place=STRING,
    approx_location=STRING,
    flagged=BOOLEAN,
    flag_reason=NULLABLE_STRING,
    requester_name=NULLABLE_STRING,
    requester_phone=STRING,
    details=STRING,
    created_at=STRING,
    matched_at=NULLABLE_STRING,
    closed_at=NULLABLE_STRING,
)
MATCH = _record(
    id=INTEGER,
    request_id=INTEGER,
    volunteer_id=INTEGER,
    status=_enum(MatchStatus),
    km=NULLABLE_NUMBER,
    why=STRING,
    run_id=NULLABLE_INTEGER,
    proposed_at=STRING,
    expires_at=NULLABLE_STRING,
    answered_at=NULLABLE_STRING,
)
VOLUNTEER = _record(
    id=INTEGER,
    name=NULLABLE_STRING,
    phone=STRING,
    categories={"type": "array", "items": STRING},
    place=STRING,
    approx_location=STRING,
    radius_km=NUMBER,
    capacity=INTEGER,
    load=INTEGER,
    vetted=BOOLEAN,
    paused=BOOLEAN,
    blocked=BOOLEAN,
)
HISTORY = _record(
    at=STRING,
    actor_type=STRING,
    actor_id=NULLABLE_INTEGER,
    action=STRING,
    from_state=NULLABLE_STRING,
    to_state=NULLABLE_STRING,
)
RUN = _record(
    id=INTEGER,
    started_at=STRING,
    trigger=STRING,
    triggered_by=NULLABLE_INTEGER,
    requests_considered=INTEGER,
    volunteers_considered=INTEGER,
    proposed=INTEGER,
    unmatched=INTEGER,
    total_km=NUMBER,
    solve_seconds=NUMBER,
    proven_optimal={"type": ["boolean", "null"]},
)
PLAN = _record(
    dry_run=BOOLEAN,
    proposed=INTEGER,
    pairs={
        "type": "array",
        "items": _record(request_id=INTEGER, volunteer_id=INTEGER, km=NUMBER, why=STRING),
    },
    unmatched={
        "type": "array",
        "items": _record(request_id=INTEGER, reason=STRING, detail=STRING),
    },
    requests_considered=INTEGER,
    volunteers_considered=INTEGER,
)
FIGURES = _record(
    days=INTEGER,
    requests=INTEGER,
    served=INTEGER,
    share_served=NULLABLE_NUMBER,
    median_hours_to_acceptance=NULLABLE_NUMBER,
    p90_hours_to_acceptance=NULLABLE_NUMBER,
    per_day={"type": "array", "items": _record(date=STRING, requests=INTEGER)},
    by_category={
        "type": "array",
        "items": _record(
            category=STRING, requests=INTEGER, served=INTEGER, median_hours=NULLABLE_NUMBER
        ),
    },
)
PAGE = _query("page", {"type": "integer", "minimum": 1})
PAGED = {"total": INTEGER, "page": INTEGER, "page_size": INTEGER}
OPENAPI: dict[str, Any] = {
    "openapi": "3.1.0",
    "info": {
        "title": "Mutual aid dashboard API",
        "version": "1",
        "description": "Phone numbers are masked to their last two digits and places are "
        "approximate for every role. Create a token on /account/api-token.",
    },
    "components": {
        "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        "responses": {
            "Error": {
                "description": "An error",
                "content": {
                    "application/json": {
                        "schema": {"type": "object", "properties": {"error": {"type": "string"}}}
                    }
                },
            }
        },
    },
    "paths": {
        "/api/requests": {
            "get": _answers(
                _op(
                    "List requests",
                    "read",
                    params=[
                        _query("state", {"enum": ["open", "matched", "completed", "cancelled"]}),
                        _query("category", {"type": "string"}),
                        _query("urgency", {"enum": ["normal", "soon", "urgent"]}),
                        _query("channel", {"enum": ["sms", "web", "coordinator"]}),
                        _query("flagged", {"enum": ["1"]}),
                        _query("older_than_hours", {"type": "integer"}),
                        _query("sort", {"enum": list(queries.SORTS)}),
                        PAGE,
                    ],
                ),
                {"200": _json("A page of requests", _list_of(REQUEST, **PAGED))},
            )
        },
        "/api/requests/{request_id}": {
            "get": _answers(
                _op("A request, its matches and history", "read", params=[_path_id("request_id")]),
                {
                    "200": _json(
                        "The request",
                        _record(
                            request=REQUEST,
                            matches={"type": "array", "items": MATCH},
                            history={"type": "array", "items": HISTORY},
                        ),
                    )
                },
                missing=True,
            )
        },
        "/api/requests/{request_id}/notes": {
            "get": _answers(
                _op(
                    "Coordinators' notes on a request, newest first (numbers in them masked)",
                    "read",
                    params=[_path_id("request_id")],
                ),
                {"200": _json("The notes", _object(items={"type": "array", "items": NOTE}))},
                missing=True,
            ),
            "post": _answers(
                _op(
                    "Add a note to a request (audited without its text)",
                    "write",
                    params=[_path_id("request_id")],
                    body=_object(
                        required=["body"],
                        body={"type": "string", "minLength": 1, "maxLength": notes.MAX_NOTE},
                    ),
                ),
                {"201": _json("The note added", _object(note=NOTE))},
                missing=True,
                invalid=True,
            ),
        },
        "/api/requests/{request_id}/assign": {
            "post": _answers(
                _op(
                    "Assign a volunteer by hand (accepted at once)",
                    "write",
                    params=[_path_id("request_id")],
                    body=_object(required=["volunteer_id"], volunteer_id=INTEGER),
                ),
                {"201": _json("The match made", _record(match=MATCH))},
                missing=True,
                invalid=True,
                conflict=True,
            )
        },
        **{
            f"/api/requests/{{request_id}}/{action}": {
                "post": _answers(
                    _op(summary, "write", params=[_path_id("request_id")]),
                    {"200": _json("The request now", _record(request=REQUEST))},
                    missing=True,
                    conflict=True,
                )
            }
            for action, summary in (
                ("cancel", "Cancel a request"),
                ("complete", "Complete the accepted match"),
            )
        },
        "/api/volunteers": {
            "get": _answers(
                _op(
                    "List volunteers",
                    "read",
                    params=[
                        _query("category", {"type": "string"}),
                        _query("vetted", {"enum": ["yes", "no"]}),
                        _query("paused", {"enum": ["yes", "no"]}),
                        PAGE,
                    ],
                ),
                {"200": _json("A page of volunteers", _list_of(VOLUNTEER, **PAGED))},
            )
        },
        "/api/volunteers/{volunteer_id}": {
            "get": _answers(
                _op("A volunteer and their tasks", "read", params=[_path_id("volunteer_id")]),
                {
                    "200": _json(
                        "The volunteer",
                        _record(volunteer=VOLUNTEER, matches={"type": "array", "items": MATCH}),
                    )
                },
                missing=True,
            )
        },
        **{
            f"/api/volunteers/{{volunteer_id}}/{action}": {
                "post": _answers(
                    _op(
                        f"{action.capitalize()} a volunteer",
                        "write",
                        params=[_path_id("volunteer_id")],
                    ),
                    {
                        "200": _json(
                            "Whether it changed, and the volunteer now",
                            _record(changed=BOOLEAN, volunteer=VOLUNTEER),
                        )
                    },
                    missing=True,
                )
            }
            for action in ("vet", "pause", "resume", "block")
        },
        "/api/runs": {
            "get": _answers(
                _op("Recent matching runs", "read"),
                {"200": _json("The latest runs, newest first", _list_of(RUN))},
            )
        },
        **{
            f"/api/matching/{mode}": {
                "post": _answers(
                    _op(
                        "Preview the next matching run (nothing sent)"
                        if mode == "preview"
                        else "Run matching and send the proposals",
                        "write",
                        body=_object(
                            request_ids={
                                "type": "array",
                                "items": {"type": "integer", "minimum": 1, "maximum": MAX_ID},
                            }
                        ),
                    ),
                    {"200": _json("The plan", PLAN)},
                    invalid=True,
                    conflict=True,
                )
            }
            for mode in ("preview", "send")
        },
        "/api/figures": {
            "get": _answers(
                _op(
                    "Requests per day, share served, time to acceptance",
                    "read",
                    params=[_query("days", {"type": "integer", "minimum": 1, "maximum": 365})],
                ),
                {"200": _json("The figures", FIGURES)},
            )
        },
    },
}
