"""Security headers on every response, no caching of pages with personal data, and no
NUL byte past the door."""

from __future__ import annotations

from flask import Flask, Response, current_app, jsonify, render_template, request

from mutualaid.web.i18n import N_

CSP = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",  # no inline script, ever
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "form-action 'self'",
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "object-src 'none'",
    ]
)


def _headers(response: Response) -> Response:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CSP)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("X-Frame-Options", "DENY")
    headers.setdefault("Referrer-Policy", "no-referrer")
    headers.setdefault("Permissions-Policy", "geolocation=(), camera=(), microphone=()")
    headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
    if request.is_secure or current_app.config["PUBLIC_BASE_URL"].startswith("https://"):
        headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
    if not request.path.startswith("/static/"):
        # Pages may carry personal data (a reference, a proposal, a dashboard): never
        # kept by the browser or a shared cache.
        headers["Cache-Control"] = "no-store"
        headers.setdefault("Pragma", "no-cache")
    return response


def _refuse_nul():
    """A NUL byte in the path or a posted form field is refused (400) before any view
    runs: PostgreSQL cannot store one (a 500 there) and SQLite would keep it. Query
    arguments are filters, which drop control characters themselves, and so do the
    dashboard's forms (a coordinator's note keeps its text); Twilio's webhooks clean what
    Twilio sends (a refusal would be retried)."""
    if request.path.startswith(("/sms/", "/voice/", "/dashboard/")):
        return None
    values = [request.path]
    if request.mimetype in ("application/x-www-form-urlencoded", "multipart/form-data"):
        values += [v for _, vs in request.form.lists() for v in vs]
    if not any("\x00" in v for v in values):
        return None
    if request.path.startswith("/api/"):
        return jsonify(error="a NUL character is not allowed"), 400
    return render_template(
        "error.html",
        message=N_(
            "Something typed there cannot be read (an invisible character). Please type it again."
        ),
    ), 400


def init_app(app: Flask) -> None:
    app.before_request(_refuse_nul)
    app.after_request(_headers)
