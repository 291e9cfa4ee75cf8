"""The app's adapters to the outside world (geocoder, …), built once per process."""

from __future__ import annotations

from flask import current_app
from sqlalchemy.orm import Session

from mutualaid.services.location import Gazetteer, Resolver, build_geocoder


def resolver(session: Session) -> Resolver:
    ext = current_app.extensions
    if "geocoder" not in ext:
        ext["geocoder"] = build_geocoder(current_app.config)
    return Resolver(Gazetteer.from_session(session), ext["geocoder"])
