"""The SMS simulator (development mode only, from this machine only): type as a phone
would, see the replies.

Each text goes through the real inbound webhook, signed exactly as Twilio signs it, and
is then handled at once by the service the worker uses (rather than a moment later by
the worker), so what you see is what a phone would get (the outbox shows replies as they
are queued and sent by the worker)."""

from __future__ import annotations

import ipaddress
import uuid

from flask import Blueprint, abort, current_app, redirect, render_template, request, url_for

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.services import handling
from mutualaid.services.limits import Limit
from mutualaid.services.queues import texts_of_phone
from sms.phones import InvalidPhoneNumber, normalize
from sms.signature import SIGNATURE_HEADER, compute_signature

bp = Blueprint("simulator", __name__, url_prefix="/dev")


@bp.before_request
def development_only() -> None:
    """Only in development, and only for the developer at this machine: the page shows
    any phone's texts, decrypted, to whoever asks (404 for anyone else, as if absent)."""
    if current_app.config["ENV"] != "development" or not _from_loopback():
        abort(404)


def _from_loopback() -> bool:
    try:
        return ipaddress.ip_address(request.remote_addr or "").is_loopback
    except ValueError:
        return False


@bp.get("/sms")
def page():
    phone = request.args.get("phone", "+17185550100")
    try:
        phone = normalize(phone, region=current_app.config["PHONE_REGION"])
    except InvalidPhoneNumber:
        abort(400, description="not a phone number")
    messages = texts_of_phone(db.session, phone, limit=50)
    return render_template("dev/sms.html", phone=phone, messages=reversed(messages))


@bp.post("/sms")
def send():
    phone, body = request.form.get("phone", ""), request.form.get("body", "")
    params = {
        "MessageSid": f"SM{uuid.uuid4().hex}",
        "AccountSid": "ACdevelopment",
        "From": phone,
        "To": "+15005550006",
        "Body": body,
        "NumMedia": "0",
    }
    url = (current_app.config["PUBLIC_BASE_URL"] or "http://localhost") + "/sms/inbound"
    signature = compute_signature(adapters.sms_auth_token(current_app.config), url, params)
    host = url.split("/")[2]
    response = current_app.test_client().post(
        "/sms/inbound",
        data=params,
        headers={SIGNATURE_HEADER: signature},
        base_url=f"{url.split(':')[0]}://{host}",
    )
    if response.status_code != 200:
        abort(502, description=f"the webhook answered {response.status_code}")
    config = current_app.config
    handling.handle_ready(
        db.session,
        adapters.sms_context(),
        limit=Limit(config["SMS_RATE_LIMIT"], config["SMS_RATE_WINDOW_SECONDS"]),
        secret=config["SECRET_KEY"],
        at_most=20,
    )
    return redirect(url_for("simulator.page", phone=phone), code=303)
