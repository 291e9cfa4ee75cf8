"""The dashboard in the coordinator's language: every text is a gettext message of the code
and templates, translated in every shipped catalogue with the same placeholders; no text is
written into the templates outside a gettext call, and a Spanish-speaking coordinator gets
the pages, the messages after an action and the charts in Spanish (from the browser's
preference or their own choice)."""

from __future__ import annotations

import re
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
from mutualaid.web.labels import LABELS
from tests import builders
from tests.web.dashboard_helpers import logged_in
from tests.web.i18n_helpers import SHIPPED, catalogue, extracted

ROOT = Path(__file__).resolve().parents[2]
TEMPLATES = sorted((ROOT / "mutualaid" / "templates" / "dashboard").glob("*.html"))


def _placeholders(text: str) -> set[str]:
    return set(re.findall(r"%\((\w+)\)s", text))


@pytest.mark.parametrize("lang", [lang for lang in SHIPPED if lang != "en"])
def test_every_message_is_translated_with_the_same_placeholders(lang):
    po = catalogue(lang)
    for message in extracted():
        if not message.id:
            continue
        found = po.get(message.id, message.context)
        assert found is not None and not found.fuzzy, (lang, message.context, message.id)
        ids = message.id if isinstance(message.id, tuple) else (message.id,)
        strs = found.string if isinstance(found.string, tuple) else (found.string,)
        assert all(strs), (lang, message.id)
        # %(num)s may go unsaid in a singular ("una solicitud"); other values never.
        wanted = set().union(*(_placeholders(i) for i in ids)) - {"num"}
        for text in strs:
            assert wanted <= _placeholders(text) <= wanted | {"num"}, (lang, message.id, text)


@pytest.mark.parametrize(
    ("prefix", "values"),
    [
        ("dash.state", [*RequestStatus, *MatchStatus]),
        ("dash.urgency", list(Urgency)),
        ("dash.channel", list(Channel)),
        ("dash.direction", list(MessageDirection)),
        ("dash.message_status", list(MessageStatus)),
        ("dash.precision", list(Precision)),
        ("dash.role", list(Role)),
        ("dash.sort", list(SORTS)),
        ("dash.actor", ["coordinator", "person", "system"]),
        ("dash.privacy", list(Privacy.WORDS)),
        ("dash.unmatched", ["no_category", "out_of_range", "excluded_unvetted_or_full",
                             "outprioritised", "unproven"]),
        ("dash.export.kind", ["requests", "volunteers", "matches"]),
        ("dash.flash.volunteer", ["vet", "pause", "resume", "block"]),
        ("dash.volunteer_status", ["blocked", "paused", "opted_out", "available"]),
    ],
)  # fmt: skip
def test_labels_made_from_values_exist(prefix, values):
    for value in values:
        assert getattr(value, "value", value) in LABELS[prefix], (prefix, value)


def test_refusals_and_skip_reasons_have_labels():
    services = ROOT / "mutualaid" / "services"
    refused = {
        key
        for path in [*services.glob("*.py"), *(ROOT / "mutualaid" / "web").glob("*.py")]
        for key in re.findall(r'(?:Refused|Conflict)\(\s*"([a-z_]+)"', path.read_text())
    }
    assert refused >= {"empty_note", "search_phone", "not_open", "assign_too_late"}
    assert refused <= set(LABELS["dash.error"]), refused - set(LABELS["dash.error"])
    previews = (services / "previews.py").read_text()
    for key in [*re.findall(r'return "([a-z_]+)", \{', previews), "raced"]:
        assert key in LABELS["dash.skip_reason"], key


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
    assert '<html lang="es" dir="ltr">' in page
    assert "Resumen" in page and "Cerrar sesión" in page  # the navigation
    # No English sentence of the dashboard is left on a Spanish page.
    for message in catalogue("es"):
        text = message.id
        if isinstance(text, str) and len(text) > 12 and "%(" not in text and message.string != text:
            assert text not in page, text


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


def test_the_spanish_dashboard_has_no_english_left(app, session, busy_network):
    """#14: login, password, API token and accounts pages, flag reasons the service wrote,
    message kinds, history details and counts with their plural forms, all in Spanish."""
    builders.aid_request(session, flagged=True, flag_reason="needs location")
    session.commit()
    login = app.test_client().get("/login?lang=es").get_data(as_text=True)
    assert "Entrada de coordinadores" in login and "Contraseña" in login
    admin = logged_in(app, session, Role.ADMIN)
    admin.get("/dashboard/?lang=es")
    for url, words in [
        ("/account/password", "Cambie su contraseña"),
        ("/account/api-token", "Su token de la API"),
        ("/admin/accounts", "Invitar a alguien"),
    ]:
        page = admin.get(url).get_data(as_text=True)
        assert words in page, url
    overview = admin.get("/dashboard/").get_data(as_text=True)
    assert "falta la ubicación" in overview and "needs location" not in overview
    assert re.search(r'<span class="n">2</span> abiertas', overview)
    assert re.search(r'<span class="n">1</span> asignada<', overview)
