"""Consent and notice on the web: the carrier wording on every form, the privacy page
(what is kept, RETENTION_DAYS, who sees it, how to be erased) linked from every public
page, and the service number on the home page as a sms: link."""

from __future__ import annotations

import pytest


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"RETENTION_DAYS": 45, "TWILIO_FROM": "+17185550199"}


@pytest.mark.parametrize("path", ["/", "/request", "/volunteer", "/privacy"])
@pytest.mark.parametrize("lang", ["en", "es"])
def test_every_public_page_links_the_privacy_page(client, path: str, lang: str) -> None:
    page = client.get(f"{path}?lang={lang}").get_data(as_text=True)
    assert 'href="/privacy"' in page


@pytest.mark.parametrize(
    ("lang", "words"),
    [
        ("en", ["Message frequency varies", "Message and data rates may apply", "HELP", "STOP"]),
        ("es", ["frecuencia de los mensajes", "tarifas de mensajes y datos", "AYUDA", "BAJA"]),
    ],
)
@pytest.mark.parametrize("path", ["/request", "/volunteer"])
def test_every_form_carries_the_carrier_wording(client, path, lang, words) -> None:
    page = client.get(f"{path}?lang={lang}").get_data(as_text=True)
    assert all(w in page for w in words), path


def test_the_privacy_page_says_what_how_long_who_and_how_to_be_erased(client) -> None:
    page = client.get("/privacy?lang=en").get_data(as_text=True)
    for words in ["What we keep", "45 days after a request is closed", "Who sees it", "erased"]:
        assert words in page


def test_the_home_page_shows_the_service_number_as_an_sms_link(client) -> None:
    page = client.get("/").get_data(as_text=True)
    assert '<a href="sms:+17185550199">(718) 555-0199</a>' in page


def test_service_number_overrides_twilio_from(app, client) -> None:
    app.config["SERVICE_NUMBER"] = "+13475550100"
    assert 'href="sms:+13475550100"' in client.get("/").get_data(as_text=True)


def test_no_number_no_link(app, client) -> None:
    app.config["TWILIO_FROM"] = ""
    assert "sms:" not in client.get("/").get_data(as_text=True)
