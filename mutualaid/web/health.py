"""Health check for load balancers and uptime monitors."""

from __future__ import annotations

import logging

from flask import Blueprint, jsonify
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from mutualaid.extensions import csrf, db

bp = Blueprint("health", __name__)
log = logging.getLogger(__name__)


@bp.get("/healthz")
@csrf.exempt
def healthz():
    """200 when the database answers, 503 otherwise."""
    try:
        db.session.execute(text("SELECT 1"))
        db.session.rollback()
    except SQLAlchemyError as exc:
        db.session.rollback()
        log.warning("health check: database unreachable: %s", type(exc).__name__)
        return jsonify(status="error", database="unreachable"), 503
    return jsonify(status="ok", database="ok")
