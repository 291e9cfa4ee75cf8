"""Twilio's webhooks: inbound messages and delivery status callbacks.

Both check Twilio's signature first (403, nothing stored, when it fails) and are the only
routes exempt from CSRF. An inbound message is stored exactly once per MessageSid by an
atomic insert, committed before it is handled: a crash while handling leaves it stored
and marked received, for the worker to handle again; Twilio's retry of the same
MessageSid changes nothing.
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request

from mutualaid.extensions import csrf, db
from mutualaid.models import Message, MessageStatus
from mutualaid.services.conversations import handle_inbound
from mutualaid.services.inbox import store_inbound
from mutualaid.services.intake import find_or_create_person
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.services.notify import say
from mutualaid.services.transitions import change_message_status
from mutualaid.web.ports import sms_auth_token, sms_context
from sms.signature import SIGNATURE_HEADER, is_valid_signature, public_url

bp = Blueprint("sms", __name__, url_prefix="/sms")
log = logging.getLogger(__name__)

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twiml_empty() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


def _signature_ok() -> bool:
    config = current_app.config
    url = public_url(
        config["PUBLIC_BASE_URL"] or None,
        scheme=request.scheme,
        host=request.host,
        path=request.path,
        query_string=request.query_string,
        forwarded_proto=request.headers.get("X-Forwarded-Proto"),
        forwarded_host=request.headers.get("X-Forwarded-Host"),
        forwarded_port=request.headers.get("X-Forwarded-Port"),
        trusted_proxies=config["TRUSTED_PROXIES"],
    )
    return is_valid_signature(
        sms_auth_token(config), url, request.form, request.headers.get(SIGNATURE_HEADER)
    )


@bp.post("/inbound")
@csrf.exempt
def inbound() -> Response:
    if not _signature_ok():
        abort(403, description="invalid Twilio signature")
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        abort(400, description="MessageSid is missing")
    try:
        media = int(form.get("NumMedia", "0") or 0)
    except ValueError:
        media = 0
    config = current_app.config
    new_id = store_inbound(
        db.session,
        sid=sid,
        sender=form.get("From", ""),
        body=form.get("Body", ""),
        media=media,
        region=config["PHONE_REGION"],
        max_body=config["SMS_MAX_BODY"],
    )
    db.session.commit()
    if new_id is None:
        return twiml_empty()  # a retry or duplicate delivery: already stored
    process_inbound(new_id)
    return twiml_empty()


def process_inbound(message_id: int) -> bool:
    """Handle a stored inbound message and mark it processed, in one transaction. On
    failure it stays received (and stored) for the worker to retry."""
    try:
        message = db.session.get(Message, message_id)
        if message is None or message.status is not MessageStatus.RECEIVED:
            return False
        ctx = sms_context(db.session)
        if _within_rate_limit(message, ctx):
            handle_inbound(db.session, ctx, message)
        change_message_status(db.session, message, MessageStatus.PROCESSED)
        db.session.commit()
        return True
    except Exception as exc:
        db.session.rollback()
        log.exception("inbound message %s not handled; it stays received for a retry", message_id)
        _count_failure(message_id, exc)
        return False


MAX_HANDLING_ATTEMPTS = 3


def _count_failure(message_id: int, exc: Exception) -> None:
    """Count a failed attempt; after MAX_HANDLING_ATTEMPTS the message is set aside
    (processed, with the error noted) for a coordinator instead of retried forever."""
    message = db.session.get(Message, message_id)
    if message is None or message.status is not MessageStatus.RECEIVED:
        db.session.rollback()
        return
    message.attempts += 1
    message.error_message = f"not handled: {type(exc).__name__}"
    if message.attempts >= MAX_HANDLING_ATTEMPTS:
        change_message_status(db.session, message, MessageStatus.PROCESSED, audit=True)
    db.session.commit()


def _within_rate_limit(message: Message, ctx) -> bool:
    """Count this text against its sender's limit. Beyond it the text stays stored but is
    not acted on, and the sender hears once per window that we will read it later."""
    config = current_app.config
    limit = Limit(config["SMS_RATE_LIMIT"], config["SMS_RATE_WINDOW_SECONDS"])
    key = limit_key(config["SECRET_KEY"], "sms", message.phone)
    if allowed(db.session, key, limit, now=ctx.now):
        return True
    person = find_or_create_person(db.session, message.phone)
    message.person_id = person.id
    window = int(ctx.now.timestamp()) // limit.seconds
    if person.phone and not person.opted_out:
        say(db.session, ctx, person, "rate_limited", dedupe_key=f"rate_limited:{key}:{window}")
    log.warning("inbound message %s over its sender's rate limit; stored, not handled", message.id)
    return False


@bp.post("/status")
@csrf.exempt
def status() -> Response:
    if not _signature_ok():
        abort(403, description="invalid Twilio signature")
    from mutualaid.services.outbox import record_delivery_status

    form = request.form
    try:
        message_id = int(request.args.get("m", ""))
    except ValueError:
        message_id = None
    try:
        error_code = int(form.get("ErrorCode") or 0) or None
    except ValueError:
        error_code = None
    record_delivery_status(
        db.session,
        message_id=message_id,
        provider_sid=form.get("MessageSid", ""),
        status=form.get("MessageStatus", ""),
        error_code=error_code,
    )
    db.session.commit()
    return twiml_empty()
