"""The dashboard in the coordinator's language: every text comes from config/web/<lang>.toml,
every key is in every catalogue with the same placeholders, no text is written into the
templates, and a Spanish-speaking coordinator gets the pages, the messages after an action
and the charts in Spanish (from the browser's preference or their own choice)."""

from __future__ import annotations

import re
import string
import tomllib
from pathlib import Path

import pytest

from mutualaid.models import (
    Channel,
    MatchStatus,
    MessageDirection,
    MessageStatus,
    Precision,
    RequestStatus,
    Role,
    Urgency,
    utcnow,
)
from mutualaid.services.privacy import Privacy
from mutualaid.services.queues import SORTS
from mutualaid.web.i18n import _flatten
from tests import builders
from tests.web.dashboard_helpers import logged_in

ROOT = Path(__file__).resolve().parents[2]
LANGUAGES = ("en", "es")
CATALOGUES = {
    lang: _flatten(tomllib.loads((ROOT / "config" / "web" / f"{lang}.toml").read_text()))
    for lang in LANGUAGES
}
TEMPLATES = sorted((ROOT / "mutualaid" / "templates" / "dashboard").glob("*.html"))
SOURCES = [*TEMPLATES, ROOT / "mutualaid" / "web" / "dashboard.py"]


def _placeholders(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_is_in_every_catalogue_with_the_same_placeholders():
    en, es = CATALOGUES["en"], CATALOGUES["es"]
    assert set(en) == set(es), set(en) ^ set(es)
    for key in en:
        assert _placeholders(en[key]) == _placeholders(es[key]), key
        assert es[key].strip(), key


def _literal_keys() -> set[str]:
    keys = set()
    for path in SOURCES:
        keys |= set(re.findall(r"""\bt\(\s*f?["'](dash\.[a-z0-9_.]+)["']""", path.read_text()))
    return keys


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("dash.state.", [*RequestStatus, *MatchStatus]),
        ("dash.urgency.", list(Urgency)),
        ("dash.channel.", list(Channel)),
        ("dash.direction.", list(MessageDirection)),
        ("dash.message_status.", list(MessageStatus)),
        ("dash.precision.", list(Precision)),
        ("dash.role.", list(Role)),
        ("dash.sort.", list(SORTS)),
        ("dash.actor.", ["coordinator", "person", "system"]),
        ("dash.privacy.", list(Privacy.WORDS)),
        ("dash.unmatched.", ["no_category", "out_of_range", "excluded_unvetted_or_full",
                             "outprioritised", "unproven"]),
        ("dash.export.kind.", ["requests", "volunteers", "matches"]),
        ("dash.flash.volunteer_", ["vet", "pause", "resume", "block"]),
        ("dash.volunteer_status.", ["blocked", "paused", "opted_out", "available"]),
    ],
)  # fmt: skip
def test_keys_made_from_values_exist(prefix, values):
    for value in values:
        key = f"{prefix}{getattr(value, 'value', value)}"
        assert all(key in CATALOGUES[lang] for lang in LANGUAGES), key


def test_keys_named_in_the_code_exist():
    keys = _literal_keys()
    assert len(keys) > 150  # the dashboard's text does come from the catalogues
    for key in keys:
        if key.endswith("."):
            continue  # a family, checked above
        assert key in CATALOGUES["en"] and key in CATALOGUES["es"], key
    services = ROOT / "mutualaid" / "services"
    refused = {
        key
        for path in [*services.glob("*.py"), *(ROOT / "mutualaid" / "web").glob("*.py")]
        for key in re.findall(r'(?:Refused|Conflict)\(\s*"([a-z_]+)"', path.read_text())
    }
    assert refused >= {"empty_note", "search_phone", "not_open", "assign_too_late"}
    for key in refused:
        assert f"dash.error.{key}" in CATALOGUES["es"], key
    previews = (services / "previews.py").read_text()
    for key in [*re.findall(r'return "([a-z_]+)", \{', previews), "raced"]:
        assert f"dash.skip_reason.{key}" in CATALOGUES["es"], key


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda p: p.name)
def test_no_text_is_written_into_the_templates(path):
    """Once Jinja's tags and expressions are taken out, no words are left (but the "V" of
    V12 and "km"), and no attribute a person reads holds words of its own."""
    source = re.sub(r"\{#.*?#\}|\{%.*?%\}|\{\{.*?\}\}", "", path.read_text(), flags=re.S)
    for attribute in re.findall(r'(?:aria-label|title|placeholder|alt)="([^"]*)"', source):
        assert not re.search(r"[A-Za-z]", attribute), attribute
    words = set(re.findall(r"[^\W\d_]+", re.sub(r"<[^>]*>", " ", source)))
    assert words <= {"V", "km"}, words


@pytest.fixture
def busy_network(session):
    req = builders.aid_request(session, flagged=True, flag_reason="llamar antes")
    builders.aid_request(
        session, status=RequestStatus.MATCHED, location_label="Bed-Stuy", matched_at=utcnow()
    )
    builders.offer(session)
    builders.match(session)
    session.commit()
    return req


@pytest.mark.parametrize(
    "url",
    ["/dashboard/", "/dashboard/requests", "/dashboard/volunteers", "/dashboard/matching",
     "/dashboard/map", "/dashboard/figures", "/dashboard/messages", "/dashboard/export",
     "/dashboard/audit", "request"],
)  # fmt: skip
def test_pages_render_in_spanish_from_the_browsers_preference(app, session, busy_network, url):
    client = logged_in(app, session, Role.COORDINATOR)
    if url == "request":
        url = f"/dashboard/requests/{busy_network.id}"
    page = client.get(url, headers={"Accept-Language": "es-MX,es;q=0.9"}).get_data(as_text=True)
    assert '<html lang="es">' in page
    assert "Resumen" in page and "Cerrar sesión" in page  # the navigation
    es, en = CATALOGUES["es"], CATALOGUES["en"]
    # No English sentence of the dashboard's catalogue is left on a Spanish page.
    for key, text in en.items():
        if key.startswith("dash.") and len(text) > 12 and "{" not in text and text != es[key]:
            assert text not in page, (key, text)


def test_a_spanish_speaking_coordinator_works_in_spanish(app, session, busy_network):
    client = logged_in(app, session, Role.COORDINATOR)
    # Chosen once (a cookie, like the public pages), then kept whatever the browser says.
    chosen = client.get("/dashboard/requests?lang=es&state=open")
    assert "lang=es" in chosen.headers["Set-Cookie"]
    page = client.get("/dashboard/requests?state=open").get_data(as_text=True)
    assert "<h1>Solicitudes" in page and ">abierta</span>" in page
    assert "Ninguna solicitud coincide." not in page and "solo con aviso" in page
    assert "llamar antes" in page  # what people wrote is never translated
    # The message after an action, and what a service refused, in Spanish.
    req_url = f"/dashboard/requests/{busy_network.id}"
    client.post(f"{req_url}/notes", data={"body": "Prefiere las mañanas"})
    page = client.get(req_url).get_data(as_text=True)
    assert "Nota añadida." in page and "Prefiere las mañanas" in page
    refused = client.post(f"{req_url}/notes", data={"body": " "}, follow_redirects=True)
    assert "No se guardó la nota: la nota está vacía." in refused.get_data(as_text=True)
    searched = client.post("/dashboard/messages/search", data={"phone": "12"})
    assert "eso no es un teléfono de la región US" in searched.get_data(as_text=True)
    # The charts: title, description and numbers in Spanish.
    figures = client.get("/dashboard/figures").get_data(as_text=True)
    assert "Solicitudes y cuántas encontraron voluntario, por categoría" in figures
    assert "Comestibles: 3, 1 atendidas." in figures and "desconocida" in figures
    # The language links keep the page's filters.
    assert 'href="/dashboard/figures?lang=en"' in figures
