"""Logging: a request id on every line, and phone numbers scrubbed before anything is
written — by the app, a library, or an exception's traceback."""

from __future__ import annotations

import logging
import re
import uuid
from typing import Any

# Ten or more digits, maybe led by + and split by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"\+?\d(?:[\s().\-]{0,2}\d){9,}")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def redact(text: str) -> str:
    return _PHONE.sub("[number]", text)


def _request_id() -> str:
    try:
        from flask import g, has_request_context

        if has_request_context():
            return g.get("request_id", "-")
    except ImportError:  # pragma: no cover
        pass
    return "-"


_base_factory = logging.getLogRecordFactory()


def _record_factory(*args: Any, **kwargs: Any) -> logging.LogRecord:
    record = _base_factory(*args, **kwargs)
    try:
        message = record.getMessage()
    except Exception:  # a bad format string: keep what there is
        message = str(record.msg)
    record.msg, record.args = redact(message), ()
    if record.exc_info and not record.exc_text:
        record.exc_text = redact(logging.Formatter().formatException(record.exc_info))
    if record.stack_info:
        record.stack_info = redact(record.stack_info)
    record.request_id = _request_id()
    return record


def configure(level: str) -> None:
    """Install the scrubbing record factory and a format with the request id (idempotent)."""
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s [req=%(request_id)s] %(message)s",
    )
    logging.getLogger().setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def init_app(app: Any) -> None:
    """A request id per request: the caller's X-Request-ID when sane, else a new one;
    echoed in the response."""
    from flask import g, request

    @app.before_request
    def _assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) else uuid.uuid4().hex[:16]

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        return response
