"""The app's adapters to the outside world (geocoder, SMS language), built once per process."""

from __future__ import annotations

import functools
import hashlib
import hmac
from pathlib import Path

from flask import Flask, current_app
from sqlalchemy.orm import Session

from mutualaid.models import utcnow
from mutualaid.services.location import Gazetteer, Resolver, build_geocoder
from mutualaid.services.notify import SmsContext, build_sms_context
from mutualaid.settings import CONFIG_DIR
from sms.catalog import Catalogue
from sms.parse import Keywords


@functools.cache
def _sms_language(config_dir: Path) -> tuple[Keywords, Catalogue]:
    # Read-only once loaded; building the keyword tables costs most of an app's start-up.
    return Keywords.load(config_dir), Catalogue.load(config_dir)


def init_app(app: Flask) -> None:
    """Load the SMS keyword tables and message catalogues once per process (bad data fails
    start-up)."""
    keywords, catalogue = _sms_language(CONFIG_DIR)
    app.extensions["sms_keywords"] = keywords
    app.extensions["sms_catalogue"] = catalogue


def _geocoder():
    ext = current_app.extensions
    if "geocoder" not in ext:
        ext["geocoder"] = build_geocoder(current_app.config)
    return ext["geocoder"]


def resolver(session: Session) -> Resolver:
    return Resolver(Gazetteer.from_session(session), _geocoder())


def sms_context(session: Session) -> SmsContext:
    ext = current_app.extensions
    return build_sms_context(
        current_app.config,
        session,
        keywords=ext["sms_keywords"],
        catalogue=ext["sms_catalogue"],
        categories=ext["categories"],
        geocoder=_geocoder(),
        now=utcnow(),
    )


def sms_auth_token(config) -> str:
    """The token inbound webhooks are signed with: Twilio's auth token, or — with the console
    backend and no Twilio account — one derived from SECRET_KEY, so the development
    simulator signs exactly as Twilio would and the signature check is never skipped."""
    if config["TWILIO_AUTH_TOKEN"]:
        return config["TWILIO_AUTH_TOKEN"]
    return hmac.new(config["SECRET_KEY"].encode(), b"console-sms", hashlib.sha256).hexdigest()
