"""Twilio Voice webhooks: the hotline's call (it rang, the caller answered a step), its
voicemail recordings, and the call's end.

Each checks Twilio's signature exactly as the SMS webhooks do (403 when it fails), is
exempt from CSRF, calls one function of services.voice and answers with its TwiML. A
caller always hears something kind: ids of the wrong shape, keys a keypad cannot send,
an error of ours — never Twilio's "an application error has occurred".
"""

from __future__ import annotations

import logging

from flask import Blueprint, Response, abort, current_app, request, url_for
from werkzeug.exceptions import InternalServerError

from mutualaid import adapters
from mutualaid.extensions import csrf, db
from mutualaid.services import voice
from mutualaid.web.sms import signature_ok, twiml_empty
from sms.voice import Script, twiml

log = logging.getLogger(__name__)

bp = Blueprint("voice", __name__, url_prefix="/voice")


def _hotline() -> voice.Hotline:
    config = current_app.config
    return voice.Hotline(tuple(config["LANGUAGES"]), config["VOICEMAIL_CATEGORY"])


def _recording() -> voice.Recording | None:
    """The recording a webhook carries, if any."""
    form = request.form
    if not (form.get("RecordingSid") or form.get("RecordingUrl")):
        return None
    return voice.Recording(
        form.get("RecordingSid"), form.get("RecordingUrl"), form.get("RecordingDuration")
    )


def _answer(script: Script) -> Response:
    body = twiml(
        script,
        action=lambda step: url_for("voice.step", step=step),
        recording_callback=url_for("voice.recording"),
        voice=current_app.config["VOICE_SAY_VOICE"] or None,
    )
    return Response(body, status=200, mimetype="text/xml")


def _checked() -> None:
    if not signature_ok():
        abort(403, description="invalid Twilio signature")


@bp.post("/inbound")
@csrf.exempt
def inbound() -> Response:
    _checked()
    form = request.form
    script = voice.answer(
        db.session,
        adapters.sms_context(),
        call_sid=form.get("CallSid"),
        caller=form.get("From"),
        hotline=_hotline(),
    )
    return _answer(script)


@bp.post("/step")
@csrf.exempt
def step() -> Response:
    _checked()
    form = request.form
    script = voice.respond(
        db.session,
        adapters.sms_context(),
        call_sid=form.get("CallSid"),
        caller=form.get("From"),
        step=request.args.get("step", "")[:20],
        digits=form.get("Digits"),
        recording=_recording(),
        hotline=_hotline(),
    )
    return _answer(script)


@bp.post("/recording")
@csrf.exempt
def recording() -> Response:
    _checked()
    form = request.form
    voice.recording_ready(
        db.session,
        ctx=adapters.sms_context(),
        call_sid=form.get("CallSid"),
        recording=_recording(),
        status=form.get("RecordingStatus"),
        hotline=_hotline(),
    )
    return twiml_empty()


@bp.post("/status")
@csrf.exempt
def status() -> Response:
    _checked()
    form = request.form
    voice.call_ended(
        db.session,
        adapters.sms_context(),
        call_sid=form.get("CallSid"),
        caller=form.get("From"),
        status=form.get("CallStatus"),
        hotline=_hotline(),
    )
    return twiml_empty()


@bp.errorhandler(InternalServerError)
def _kind_failure(error: InternalServerError) -> Response:
    """Our failure still sounds kind to the caller (the unit of work has rolled back)."""
    log.error("voice webhook failed", exc_info=error.original_exception)
    catalogue = current_app.extensions["sms_catalogue"]
    language = (current_app.config["LANGUAGES"] or ["en"])[0]
    return _answer(voice.sorry(catalogue, language))
