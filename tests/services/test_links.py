"""Links sent by SMS point where the service really is: PUBLIC_BASE_URL, else its HOST and
PORT (issue 14: with PORT=5101 proposals linked to port 5000)."""

from __future__ import annotations

import pytest

from mutualaid import adapters
from mutualaid.services.links import base_url, proposal_token
from tests import builders


@pytest.mark.parametrize(
    ("public", "host", "port", "expected"),
    [
        ("", "127.0.0.1", "5101", "http://127.0.0.1:5101"),
        ("", None, None, "http://127.0.0.1:5000"),
        ("", "0.0.0.0", "8000", "http://127.0.0.1:8000"),
        ("", "aid.local", "80", "http://aid.local:80"),
        ("", "::1", "5101", "http://[::1]:5101"),
        ("https://aid.example.org", "0.0.0.0", "8000", "https://aid.example.org"),
    ],
)
def test_base_url(public, host, port, expected) -> None:
    assert base_url(public, host=host, port=port) == expected


def test_proposal_links_use_the_port_the_service_runs_on(app, session, monkeypatch) -> None:
    match = builders.match(session)
    monkeypatch.setenv("HOST", "127.0.0.1")
    monkeypatch.setenv("PORT", "5101")
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "")
    token = proposal_token(app.config["SECRET_KEY"], match)
    assert adapters.proposal_links()(match) == f"http://127.0.0.1:5101/t/{token}"
    monkeypatch.setitem(app.config, "PUBLIC_BASE_URL", "https://aid.example.org")
    assert adapters.proposal_links()(match) == f"https://aid.example.org/t/{token}"
