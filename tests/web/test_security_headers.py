"""Every route answers with the security headers; pages with personal data are not cached;
oversized bodies are refused."""

from __future__ import annotations

import re

import pytest

from tests.sms_helpers import text

REQUIRED = {
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "X-Frame-Options": "DENY",
}
SAMPLE_VALUES = {"token": "1.AAAAAAAAAAAAAAAA", "filename": "site.css"}


def _urls(app) -> list[tuple[str, str]]:
    urls = []
    for rule in app.url_map.iter_rules():
        url = rule.rule
        for name in rule.arguments:
            url = re.sub(rf"<(?:[^:<>]+:)?{name}>", SAMPLE_VALUES.get(name, "1"), url)
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            urls.append((method, url))
    return urls


def _check(response, url: str) -> None:
    for header, value in REQUIRED.items():
        assert response.headers.get(header) == value, (url, header)
    csp = response.headers["Content-Security-Policy"]
    for directive in (
        "frame-ancestors 'none'",
        "base-uri 'none'",
        "script-src 'self'",
        "object-src 'none'",
    ):
        assert directive in csp, (url, directive)
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp
    if not url.startswith("/static/"):
        assert response.headers["Cache-Control"] == "no-store", url


def test_every_route_has_the_headers(app, client) -> None:
    scanned = 0
    for method, url in _urls(app):
        response = client.open(url, method=method)
        response.close()
        assert response.status_code < 500, (method, url, response.status_code)
        _check(response, url)
        scanned += 1
    assert scanned >= 10


def test_errors_and_webhooks_have_them_too(app, client) -> None:
    _check(client.get("/no/such/page"), "/no/such/page")
    _check(text(client, app, "+17185550101", "HELP"), "/sms/inbound")


def test_no_hsts_over_plain_http(client) -> None:
    assert "Strict-Transport-Security" not in client.get("/").headers


class TestOverHttps:
    @pytest.fixture
    def app_config(self) -> dict:
        return {"PUBLIC_BASE_URL": "https://aid.example.org"}

    def test_hsts(self, client) -> None:
        hsts = client.get("/", base_url="https://aid.example.org").headers[
            "Strict-Transport-Security"
        ]
        assert "max-age=31536000" in hsts


def test_static_files_may_be_cached(client) -> None:
    response = client.get("/static/site.css")
    response.close()
    assert response.status_code == 200
    assert response.headers.get("Cache-Control") != "no-store"


def test_an_oversized_body_is_refused(client) -> None:
    response = client.post("/request", data={"details": "x" * 70_000})
    assert response.status_code == 413


def test_no_inline_script_or_style_in_templates() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "mutualaid" / "templates"
    templates = sorted(root.rglob("*.html"))
    assert len(templates) > 10, f"no templates found under {root}"
    for path in templates:
        html = path.read_text()
        assert not re.search(r"<script(?![^>]*\bsrc=)", html), path
        assert not re.search(r"\son[a-z]+=", html), path
        assert " style=" not in html, path
