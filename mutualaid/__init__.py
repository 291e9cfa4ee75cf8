"""Mutual aid matching service: the Flask application factory."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from flask import Flask

from mutualaid.settings import load_settings

MIGRATIONS_DIR = Path(__file__).resolve().parent / "migrations"


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app: defaults → config file → environment → ``test_config``, then extensions,
    adapters, blueprints and CLI; every view runs as one unit of work (unit_of_work.App).
    Raises settings.ConfigError naming a missing or invalid setting."""
    from mutualaid.unit_of_work import App

    app = App(__name__, instance_relative_config=True)
    settings = load_settings(overrides=test_config, instance_path=app.instance_path)
    app.config.update(settings)
    app.config.update(
        DEBUG=False,
        SQLALCHEMY_DATABASE_URI=settings["DATABASE_URL"],
        SQLALCHEMY_ENGINE_OPTIONS=_engine_options(settings["DATABASE_URL"]),
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings["PUBLIC_BASE_URL"].startswith("https://"),
        WTF_CSRF_TIME_LIMIT=None,  # the token lives as long as the session
    )
    if settings["DATABASE_URL"].startswith("sqlite:///"):
        os.makedirs(app.instance_path, exist_ok=True)
    from mutualaid import logs

    logs.configure(settings["LOG_LEVEL"], settings["LOG_FORMAT"])

    from mutualaid import adapters
    from mutualaid.extensions import csrf, db, migrate
    from mutualaid.services.catalogues import load_categories
    from mutualaid.services.languages import load_languages
    from mutualaid.web import i18n, security, templating

    db.init_app(app)
    migrate.init_app(app, db, directory=str(MIGRATIONS_DIR))
    csrf.init_app(app)
    with app.app_context():
        from mutualaid.db import configure_engine
        from mutualaid.models.crypto import Cipher, parse_key, use_cipher

        configure_engine(db.engine)
        old_keys = [parse_key(settings["DATA_KEY_OLD"])] if settings["DATA_KEY_OLD"] else []
        cipher = Cipher(parse_key(settings["DATA_KEY"]), old_keys)
        use_cipher(db.engine, cipher)
        app.extensions["data_cipher"] = cipher

    config_dir = Path(app.config["CONFIG_DIR"])
    app.extensions["languages"] = load_languages(config_dir, app.config["LANGUAGES"])
    app.extensions["categories"] = load_categories(config_dir, app.config["LANGUAGES"])
    i18n.init_app(app)
    templating.init_app(app)
    adapters.init_app(app)
    security.init_app(app)
    logs.init_app(app)

    from mutualaid.web import health, links, public, simulator, sms, voice

    app.register_blueprint(health.bp)
    app.register_blueprint(public.bp)
    app.register_blueprint(sms.bp)
    app.register_blueprint(voice.bp)
    app.register_blueprint(links.bp)
    app.register_blueprint(simulator.bp)

    from mutualaid.web import api, auth, dashboard

    auth.init_app(app)
    dashboard.init_app(app)
    app.register_blueprint(auth.bp)
    app.register_blueprint(dashboard.bp)
    app.register_blueprint(api.bp)

    if settings["TRUSTED_PROXIES"]:
        from werkzeug.middleware.proxy_fix import ProxyFix

        # Only the client address: the SMS signature check reads the forwarded scheme
        # and host itself, for the same number of hops.
        app.wsgi_app = ProxyFix(
            app.wsgi_app,
            x_for=settings["TRUSTED_PROXIES"],
            x_proto=0,
            x_host=0,
            x_port=0,
            x_prefix=0,
        )

    from mutualaid import cli, worker

    cli.register(app)
    app.cli.add_command(worker.command)
    return app


def _engine_options(url: str) -> dict[str, Any]:
    if url.startswith("sqlite"):
        # Writers wait for each other instead of failing with "database is locked".
        return {
            "connect_args": {"timeout": 15, "check_same_thread": False},
            "hide_parameters": True,  # no phone number in an error message or log line
        }
    return {"pool_pre_ping": True, "pool_size": 5, "max_overflow": 10, "hide_parameters": True}
