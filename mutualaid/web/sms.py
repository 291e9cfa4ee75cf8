"""Twilio's webhooks: inbound messages and delivery status callbacks.

Both check Twilio's signature first (403, nothing stored, when it fails) and are the only
routes exempt from CSRF. An inbound message is stored exactly once per MessageSid by an
atomic insert, committed with the request, and Twilio is answered at once: the worker
handles it (worker.jobs.handle_received), so a burst of texts costs the webhook one
insert each. Twilio's retry of the same MessageSid changes nothing.
"""

from __future__ import annotations

from flask import Blueprint, Response, abort, current_app, request

from mutualaid.adapters import sms_auth_token
from mutualaid.extensions import csrf, db
from mutualaid.services.inbox import store_inbound
from sms.signature import SIGNATURE_HEADER, is_message_sid, is_valid_signature, public_url

bp = Blueprint("sms", __name__, url_prefix="/sms")

EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>'


def twiml_empty() -> Response:
    return Response(EMPTY_TWIML, status=200, mimetype="text/xml")


def whole(text: str | None, *, default: int | None) -> int | None:
    """A whole number a database integer holds, or ``default`` (junk, huge, negative)."""
    text = (text or "").strip()
    if not (text.isascii() and text.isdigit()) or len(text) > 9:
        return default
    return int(text)


def signature_ok() -> bool:
    """Whether this request carries Twilio's signature of the URL it called (every Twilio
    webhook: SMS here, voice in web/voice.py)."""
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
    if not signature_ok():
        abort(403, description="invalid Twilio signature")
    form = request.form
    sid = form.get("MessageSid") or form.get("SmsSid")
    if not sid:
        abort(400, description="MessageSid is missing")
    if not is_message_sid(sid):
        # A signed request re-cut to another sid (see sms.signature.is_message_sid).
        abort(400, description="MessageSid is not a Twilio message id")
    media = whole(form.get("NumMedia", "0"), default=0)
    config = current_app.config
    # None for a retry or duplicate delivery (already stored), or for a sender that is
    # not a phone number: nothing is stored or answered, and Twilio gets its 200. A
    # WhatsApp sender (whatsapp:+…) is their phone number, when WhatsApp is on.
    store_inbound(
        db.session,
        sid=sid,
        sender=form.get("From", ""),
        body=form.get("Body", ""),
        media=media,
        region=config["PHONE_REGION"],
        max_body=config["SMS_MAX_BODY"],
        whatsapp=bool(config["WHATSAPP_FROM"]),
    )
    return twiml_empty()  # the worker handles it (worker.jobs.handle_received)


@bp.post("/status")
@csrf.exempt
def status() -> Response:
    if not signature_ok():
        abort(403, description="invalid Twilio signature")
    from mutualaid.services.outbox import record_delivery_status

    form = request.form
    if not is_message_sid(form.get("MessageSid", "")):
        abort(400, description="MessageSid is not a Twilio message id")
    message_id = whole(request.args.get("m", ""), default=None)
    error_code = whole(form.get("ErrorCode", ""), default=None) or None
    record_delivery_status(
        db.session,
        message_id=message_id,
        provider_sid=form.get("MessageSid", ""),
        status=form.get("MessageStatus", ""),
        error_code=error_code,
    )
    return twiml_empty()
