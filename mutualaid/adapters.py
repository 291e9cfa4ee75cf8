"""The outside world as every boundary (web, CLI, worker) meets it, built once per process
from the settings: the SMS sender, the geocoder, the SMS language (keyword tables and
message catalogues), and from them the SmsContext of one request or job.

With ``SMS_BACKEND = "fake"`` (tests) what was "sent" is read from :func:`fake_sender`,
the one FakeSender of this process.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import hmac
import logging
import os
import smtplib
import ssl
import threading
from collections.abc import Callable, Mapping
from email.message import EmailMessage
from pathlib import Path
from typing import Any, TextIO

import requests
from flask import Flask, current_app

from mutualaid.extensions import db
from mutualaid.models import Match, utcnow
from mutualaid.services.links import base_url, proposal_link
from mutualaid.services.location import Resolver, build_geocoder
from mutualaid.services.notify import SmsContext, build_sms_context
from sms.budget import Rules
from sms.catalog import Catalogue
from sms.parse import Keywords
from sms.transport import FakeSender, Sender, make_sender
from sms.whatsapp import WhatsAppTemplates

log = logging.getLogger(__name__)


def init_app(app: Flask) -> None:
    """Load the SMS keyword tables and message catalogues once per process (bad data fails
    start-up)."""
    keywords, catalogue, rules = _sms_language(
        Path(app.config["CONFIG_DIR"]), tuple(app.config["LANGUAGES"])
    )
    app.extensions["sms_keywords"] = keywords
    app.extensions["sms_catalogue"] = catalogue
    app.extensions["sms_segment_rules"] = rules
    app.extensions["whatsapp_templates"] = _whatsapp_templates(
        Path(app.config["CONFIG_DIR"]) / app.config["WHATSAPP_TEMPLATES_FILE"], catalogue
    )


@functools.cache
def _whatsapp_templates(path: Path, catalogue: Catalogue) -> WhatsAppTemplates:
    templates = WhatsAppTemplates.load(path)
    templates.check(catalogue)
    return templates


@functools.cache
def _sms_language(
    config_dir: Path, languages: tuple[str, ...]
) -> tuple[Keywords, Catalogue, Rules]:
    # Only the network's languages: a keyword of another language means nothing here.
    # Read-only once loaded; building the keyword tables costs most of an app's start-up.
    catalogue = Catalogue.load(config_dir, languages=languages)
    rules = Rules.load(config_dir)
    rules.check(catalogue.templates())
    return Keywords.load(config_dir, languages), catalogue, rules


# -- SMS context --------------------------------------------------------------------------


def geocoder() -> Any:
    """This app's geocoder (built on first use)."""
    ext = current_app.extensions
    if "geocoder" not in ext:
        ext["geocoder"] = build_geocoder(current_app.config)
    return ext["geocoder"]


def resolver() -> Resolver:
    """Places typed by people, resolved with the network's gazetteer and the geocoder."""
    from mutualaid.services.location import Gazetteer

    return Resolver(Gazetteer.from_session(db.session), geocoder())


def sms_context(now: dt.datetime | None = None) -> SmsContext:
    """What the SMS use cases need, for one request or job of this app (at ``now``)."""
    ext = current_app.extensions
    return build_sms_context(
        current_app.config,
        db.session,
        keywords=ext["sms_keywords"],
        catalogue=ext["sms_catalogue"],
        categories=ext["categories"],
        geocoder=geocoder(),
        now=now or utcnow(),
        public_base_url=public_url(),
        segment_rules=ext["sms_segment_rules"],
        whatsapp=ext["whatsapp_templates"],
    )


def public_url() -> str:
    """The address links sent by SMS start with: PUBLIC_BASE_URL, else the host and port
    this service runs on (HOST and PORT, as the launcher and the Procfile bind them)."""
    return base_url(
        current_app.config["PUBLIC_BASE_URL"],
        host=os.environ.get("HOST"),
        port=os.environ.get("PORT"),
    )


def proposal_links() -> Callable[[Match], str]:
    """The signed web link a proposal SMS carries, for this app's address and secret."""
    secret, base = current_app.config["SECRET_KEY"], public_url()
    return lambda match: proposal_link(base, secret, match)


def sms_auth_token(config: Mapping[str, Any]) -> str:
    """The token inbound webhooks are signed with: Twilio's auth token, or — with the console
    backend and no Twilio account — one derived from SECRET_KEY, so the development
    simulator signs exactly as Twilio would and the signature check is never skipped."""
    if config["TWILIO_AUTH_TOKEN"]:
        return config["TWILIO_AUTH_TOKEN"]
    return hmac.new(config["SECRET_KEY"].encode(), b"console-sms", hashlib.sha256).hexdigest()


# -- the SMS sender -----------------------------------------------------------------------


def sms_sender() -> Sender:
    """This app's sender, built once per process from the settings."""
    ext = current_app.extensions
    if "mutualaid.sms_sender" not in ext:
        ext["mutualaid.sms_sender"] = build_sender(current_app.config)
        # twilio logs every request at INFO (headers, URL with the account): too much.
        logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    return ext["mutualaid.sms_sender"]


_fake_lock = threading.Lock()
_fake: FakeSender | None = None


def build_sender(config: Mapping[str, Any], *, stream: TextIO | None = None) -> Sender:
    """The sender named by SMS_BACKEND: ``console`` prints each text to ``stream``
    (stdout by default, so `make run` shows them; outside development only its template
    key and segment count), ``twilio`` sends through Twilio (or
    TWILIO_API_BASE_URL) with the configured timeouts, ``fake`` is :func:`fake_sender`."""
    backend = str(config["SMS_BACKEND"])
    if backend == "fake":
        return fake_sender()
    if backend == "console":
        # Bodies only in development: elsewhere console output ends up in logs.
        return make_sender("console", stream=stream, show_bodies=config.get("ENV") == "development")
    return make_sender(
        backend,
        account_sid=config["TWILIO_ACCOUNT_SID"] or None,
        auth_token=config["TWILIO_AUTH_TOKEN"] or None,
        from_number=config["TWILIO_FROM"] or None,
        messaging_service_sid=config["TWILIO_MESSAGING_SERVICE_SID"] or None,
        whatsapp_from=config["WHATSAPP_FROM"] or None,
        api_base_url=config["TWILIO_API_BASE_URL"] or None,
        connect_timeout=float(config["TWILIO_CONNECT_TIMEOUT"]),
        read_timeout=float(config["TWILIO_READ_TIMEOUT"]),
    )


def fake_sender() -> FakeSender:
    """This process's FakeSender (created on first use)."""
    global _fake
    with _fake_lock:
        if _fake is None:
            _fake = FakeSender()
        return _fake


def reset_fake_sender() -> FakeSender:
    """Forget what the process's FakeSender recorded (between tests); the new one."""
    global _fake
    with _fake_lock:
        _fake = FakeSender()
        return _fake


# -- telling coordinators -----------------------------------------------------------------


def deliver_alerts(config: Mapping[str, Any], subject: str, text: str) -> bool:
    """Send one digest of alerts by e-mail (NOTIFY_EMAIL_TO through SMTP_HOST) and to
    NOTIFY_WEBHOOK_URL; True when at least one of them took it (so it is not sent twice).
    Called with no transaction open."""
    delivered = False
    if config["NOTIFY_EMAIL_TO"]:
        try:
            send_email(config, subject, text)
            delivered = True
        except (OSError, smtplib.SMTPException) as exc:
            log.warning("alerts: e-mail to coordinators failed: %s", exc)
    if config["NOTIFY_WEBHOOK_URL"]:
        try:
            post_webhook(config["NOTIFY_WEBHOOK_URL"], text)
            delivered = True
        except requests.RequestException as exc:
            log.warning("alerts: webhook failed: %s", type(exc).__name__)
    return delivered


def send_email(config: Mapping[str, Any], subject: str, text: str) -> None:
    message = EmailMessage()
    message["Subject"] = subject
    message["From"] = config["SMTP_FROM"]
    message["To"] = ", ".join(config["NOTIFY_EMAIL_TO"])
    message.set_content(text)
    with smtplib.SMTP(config["SMTP_HOST"], int(config["SMTP_PORT"]), timeout=10) as smtp:
        if config["SMTP_STARTTLS"]:
            smtp.starttls(context=ssl.create_default_context())
        if config["SMTP_USER"]:
            smtp.login(config["SMTP_USER"], config["SMTP_PASSWORD"])
        smtp.send_message(message)


def post_webhook(url: str, text: str) -> None:
    """Slack's and Matrix hookshot's incoming webhooks read "text", Discord's "content"."""
    with requests.Session() as http:
        http.trust_env = False  # the operator's URL, not a proxy from the environment
        response = http.post(url, json={"text": text, "content": text[:2000]}, timeout=10)
    response.raise_for_status()
