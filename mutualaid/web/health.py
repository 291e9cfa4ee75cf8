"""Health checks: /healthz (alive: the database answers) and /readyz (ready for traffic:
the database answers and its schema is at the migrations' head); and /favicon.ico."""

from __future__ import annotations

import functools
import logging

from flask import Blueprint, current_app, jsonify, redirect, url_for
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mutualaid.db import READ_ONLY
from mutualaid.extensions import csrf, db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


def _probe():
    """A connection of its own for a check (the request's session is not involved), reading
    without SQLite's write lock."""
    return db.engine.connect().execution_options(**READ_ONLY)


@bp.get("/favicon.ico")
def favicon():
    """Browsers ask for /favicon.ico whatever the page says: the SVG icon (not a 404)."""
    return redirect(url_for("static", filename="favicon.svg"), code=301)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 when the database answers, 503 otherwise."""
    try:
        with _probe() as conn:
            conn.execute(text("SELECT 1"))
    except SQLAlchemyError as exc:
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")


@functools.cache
def _head_revisions(directory: str) -> frozenset[str]:
    from alembic.config import Config
    from alembic.script import ScriptDirectory

    config = Config()
    config.set_main_option("script_location", directory)
    return frozenset(ScriptDirectory.from_config(config).get_heads())


@bp.get("/readyz")
@csrf.exempt
def readyz():
    """200 when the database answers and is migrated to the code's head; 503 with the
    reason otherwise (a deploy that forgot `mutualaid db upgrade`)."""
    try:
        with _probe() as conn:
            current = set(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    except SQLAlchemyError as exc:
        log.warning("readiness: database not ready: %s", type(exc).__name__)
        return jsonify(status="error", database="unreachable or not migrated"), 503
    expected = _head_revisions(current_app.extensions["migrate"].directory)
    if current != expected:
        return jsonify(status="error", database="migrations pending"), 503
    return jsonify(status="ok", database="ok", migrations="current")
