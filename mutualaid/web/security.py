"""Security headers on every response, and no caching of pages with personal data."""

from __future__ import annotations

from flask import Flask, Response, current_app, request

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


def init_app(app: Flask) -> None:
    app.after_request(_headers)
