"""Logging: a request id on every line, and phone numbers scrubbed before anything is
written — by the app, a library, or an exception's traceback. Lines are plain text, or
one JSON object each (LOG_FORMAT = "json") for a log collector."""

from __future__ import annotations

import datetime as dt
import json
import logging
import re
import uuid
from typing import Any

# Ten or more digits, maybe led by + and split by spaces, dots, dashes or brackets.
_PHONE = re.compile(r"\+?\d(?:[\s().\-]{0,2}\d){9,}")
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._-]{1,64}$")


def redact(text: str) -> str:
    return _PHONE.sub("[number]", text)


def _new_id() -> str:
    """16 hex digits that never read as a phone number (which the scrubber would mangle)."""
    while _PHONE.search(new := uuid.uuid4().hex[:16]):
        pass
    return new


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


TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s [req=%(request_id)s] %(message)s"


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and the
    exception or stack when there is one — each already scrubbed by the record factory."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(
                timespec="milliseconds"
            ),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", "-"),
        }
        if record.exc_info and not record.exc_text:  # a record made before configure()
            record.exc_text = redact(self.formatException(record.exc_info))
        if record.exc_text:
            line["exception"] = record.exc_text
        if record.stack_info:
            line["stack"] = record.stack_info
        return json.dumps(line, ensure_ascii=False)


def formatter(log_format: str) -> logging.Formatter:
    """The formatter for LOG_FORMAT: "text" or "json"."""
    return JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT)


_handler: logging.Handler | None = None


def configure(level: str, log_format: str = "text") -> None:
    """Install the scrubbing record factory and, unless logging was set up elsewhere, a
    handler on stderr in ``log_format`` (idempotent; a later call changes the format)."""
    global _handler
    if logging.getLogRecordFactory() is not _record_factory:
        logging.setLogRecordFactory(_record_factory)
    root = logging.getLogger()
    if _handler is None or _handler not in root.handlers:
        if root.handlers:  # the embedding program (or pytest) configured logging
            _handler = None
        else:
            _handler = logging.StreamHandler()
            root.addHandler(_handler)
    if _handler is not None:
        _handler.setFormatter(formatter(log_format))
    root.setLevel(level)
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)


def init_app(app: Any) -> None:
    """A request id per request: the caller's X-Request-ID when sane (and not a phone
    number), else a new one; echoed in the response."""
    from flask import g, request

    @app.before_request
    def _assign_request_id() -> None:
        given = request.headers.get("X-Request-ID", "")
        g.request_id = given if _REQUEST_ID.match(given) and not _PHONE.search(given) else _new_id()

    @app.after_request
    def _echo_request_id(response: Any) -> Any:
        response.headers["X-Request-ID"] = g.get("request_id", "-")
        return response
