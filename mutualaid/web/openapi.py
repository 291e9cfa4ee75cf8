"""The JSON API's description (OpenAPI 3.1), served at /api/openapi.json: every route with
its parameters, bodies and answers, built from small schema helpers."""

from __future__ import annotations

from typing import Any

from mutualaid.models import Channel, MatchStatus, RequestStatus, Urgency
from mutualaid.services import notes
from mutualaid.services.queues import SORTS
from mutualaid.web.query import MAX_ID


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
                        _query("channel", {"enum": [c.value for c in Channel]}),
                        _query("flagged", {"enum": ["1"]}),
                        _query("older_than_hours", {"type": "integer"}),
                        _query("sort", {"enum": list(SORTS)}),
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
                    "Assign a volunteer by hand: proposed to them by SMS, or accepted at"
                    " once with agreed=true (they already said yes)",
                    "write",
                    params=[_path_id("request_id")],
                    body=_object(required=["volunteer_id"], volunteer_id=INTEGER, agreed=BOOLEAN),
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
