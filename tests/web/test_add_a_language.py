"""A language is files and a line of settings: a made-up language "xx" added in a temporary
config folder (its name, category labels and aliases, SMS keywords and messages, and a PO
file of page text never compiled) is on the pages, in the texts and in the categories,
while a shipped language left out of LANGUAGES is not read at all."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import write_po
from sqlalchemy import select

from mutualaid.models import AidRequest, Person, Role
from tests.sms_helpers import outbox, text
from tests.web.dashboard_helpers import logged_in

CONFIG = Path(__file__).resolve().parents[2] / "config"
XX = "+17185550188"


def _add_xx(config: Path) -> None:
    (config / "languages" / "xx.toml").write_text(
        'name = "Xish"\ndirection = "rtl"\nlocale = "fr"\n\n'
        '[categories.groceries]\nlabel = "Xgroceries"\naliases = ["xfood", "xfoods"]\n',
        encoding="utf-8",
    )
    (config / "keywords" / "xx.toml").write_text(
        '[intents.help]\nalone = ["xhelp"]\n[intents.need]\nlead = ["xneed"]\n'
        '[intents.stop]\nalone = ["xstop", "stop"]\n',
        encoding="utf-8",
    )
    english = (CONFIG / "messages" / "en.toml").read_text(encoding="utf-8")
    xx = re.sub(r'(?m)^text = "', 'text = "XX ', english)
    (config / "messages" / "xx.toml").write_text(xx, encoding="utf-8")
    catalog = Catalog(locale="fr")
    catalog.add("Neighbours helping neighbours", "Xneighbours Xhelping")
    catalog.add("Overview", "Xoverview")
    catalog.add(("%(num)s text found", "%(num)s texts found"), ("%(num)s xtext", "%(num)s xtexts"))
    po = config / "locales" / "xx" / "LC_MESSAGES" / "messages.po"
    po.parent.mkdir(parents=True)
    with po.open("wb") as f:
        write_po(f, catalog)


@pytest.fixture
def app_config(tmp_path: Path) -> dict[str, object]:
    config = tmp_path / "config"
    shutil.copytree(CONFIG, config, ignore=shutil.ignore_patterns("*.mo"))
    _add_xx(config)
    return {"CONFIG_DIR": str(config), "LANGUAGES": ["en", "xx"]}


def test_the_pages_speak_the_new_language(app, client, session) -> None:
    page = client.get("/?lang=xx").get_data(as_text=True)
    assert '<html lang="xx" dir="rtl">' in page
    assert "Xneighbours Xhelping" in page and "Neighbours helping neighbours" not in page
    assert ">Xish<" in page and "Español" not in page  # the menu: LANGUAGES only
    assert "I can help" in page  # text the PO file does not translate: English
    coordinator = logged_in(app, session, Role.COORDINATOR)
    dashboard = coordinator.get("/dashboard/?lang=xx").get_data(as_text=True)
    assert "Xoverview" in dashboard


def test_texts_in_the_new_language_and_only_the_networks_languages(app, client, session):
    text(client, app, XX, "XHELP")
    (reply,) = outbox(session, XX)
    assert reply.template == "help" and reply.body.startswith("XX ")
    person = session.scalar(select(Person).where(Person.id == reply.person_id))
    assert person.language == "xx"
    text(client, app, XX, "xneed xfoods 11216")
    req = session.scalar(select(AidRequest).where(AidRequest.requester_id == person.id))
    assert req is not None and req.category == "groceries" and req.language == "xx"
    assert outbox(session, XX)[-1].body.startswith("XX ")
    # Spanish is shipped but not in LANGUAGES: its keywords and aliases mean nothing here.
    other = "+17185550189"
    text(client, app, other, "AYUDA")
    assert outbox(session, other)[-1].template != "help"
    text(client, app, other, "necesito comida 11216")
    assert session.scalar(select(AidRequest).where(AidRequest.requester_id != person.id)) is None


def test_the_categories_carry_the_new_languages_label(app, client, session) -> None:
    text(client, app, XX, "xneed xfood 11216")
    req = session.scalar(select(AidRequest))
    coordinator = logged_in(app, session, Role.COORDINATOR)
    page = coordinator.get(f"/dashboard/requests/{req.id}?lang=xx").get_data(as_text=True)
    assert "Xgroceries" in page
    english = coordinator.get(f"/dashboard/requests/{req.id}?lang=en").get_data(as_text=True)
    assert "Groceries" in english and "Xgroceries" not in english
    assert "Comestibles" not in english
