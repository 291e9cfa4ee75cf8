"""Every shipped language, as its speakers meet the service: HELP and a NEED texted in it
(a signed webhook, the real database, the reply sent through the fake Twilio API), and
every public and dashboard page rendered in it, right to left where the script needs it,
with no English left where the language's catalogue has the text."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import string
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask.testing import FlaskClient
from sqlalchemy import select

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import AidRequest, Message, RequestStatus, Role
from mutualaid.services.languages import load_languages
from mutualaid.services.links import proposal_token
from mutualaid.worker.jobs import send_outbox
from sms.transport import TwilioSender
from tests import builders
from tests.conftest import base_config
from tests.fakes.twilio import FakeTwilio
from tests.sms_helpers import outbox, text
from tests.web.dashboard_helpers import account, login
from tests.web.i18n_helpers import SHIPPED, catalogue

CONFIG = Path(__file__).resolve().parents[2] / "config"
LANGUAGES = load_languages(CONFIG, list(SHIPPED))

# How a speaker of each language asks for the list of commands, and for groceries.
SPOKEN = {
    "en": ("HELP", "need food 11216"),
    "es": ("AYUDA", "necesito comida 11216"),
    "zh": ("帮助", "我需要食物 11216"),
    "ru": ("ПОМОЩЬ", "Мне нужны продукты 11216"),
    "ht": ("ÈD", "mwen bezwen manje 11216"),
    "bn": ("সাহায্য", "আমার খাবার দরকার 11216"),
    "ko": ("도움말", "음식이 필요해요 11216"),
    "ar": ("مساعدة", "أحتاج طعام 11216"),
}


def test_every_shipped_language_is_tested_and_speaks_its_direction() -> None:
    assert set(SHIPPED) == set(SPOKEN) and len(SHIPPED) >= 7
    assert {code for code, lang in LANGUAGES.items() if lang.direction == "rtl"} == {"ar"}


@pytest.fixture
def app_config() -> dict[str, object]:
    return {"LANGUAGES": list(SHIPPED)}


@pytest.fixture
def fake() -> Iterator[FakeTwilio]:
    with FakeTwilio() as fake:
        yield fake


def _sent(app, fake: FakeTwilio) -> list[str]:
    """The worker's outbox job, sending through the fake Twilio API: the bodies it got."""
    sender = TwilioSender(
        fake.account_sid,
        fake.auth_token,
        from_number="+15005550006",
        api_base_url=fake.base_url,
        connect_timeout=2,
        read_timeout=5,
    )
    before = len(fake.messages)
    try:
        while send_outbox(app, sender):
            pass
    finally:
        sender.close()
    return [m["body"] for m in fake.messages[before:]]


def _fragment(app, key: str, lang: str) -> str:
    """The longest fixed piece of a message's text in ``lang`` (between placeholders)."""
    template = app.extensions["sms_catalogue"].template(key, lang)
    pieces = [literal for literal, *_ in string.Formatter().parse(template.text)]
    return max(pieces, key=len).strip()


@pytest.mark.parametrize("lang", SHIPPED)
def test_help_and_a_need_by_text(app, client, session, fake, lang) -> None:
    phone = f"+1718555{SHIPPED.index(lang):04d}"
    help_word, need = SPOKEN[lang]
    text(client, app, phone, help_word)
    (help_reply,) = outbox(session, phone)
    assert help_reply.template == "help"
    assert _fragment(app, "help", lang) in help_reply.body
    text(client, app, phone, need)
    req = session.scalar(select(AidRequest))
    assert req is not None, need
    assert (req.category, req.language, req.status) == ("groceries", lang, RequestStatus.OPEN)
    assert req.location_text == "11216" and req.lat is not None
    confirmed = outbox(session, phone)[-1]
    assert confirmed.template == "need_confirmed"
    assert _fragment(app, "need_confirmed", lang) in confirmed.body
    bodies = _sent(app, fake)
    assert help_reply.body in bodies and confirmed.body in bodies
    # HELP in English is understood in every language (carrier rules), and a word shared
    # by several languages keeps the sender's own: the answer is still in theirs.
    text(client, app, phone, "HELP")
    again = outbox(session, phone)[-1]
    assert again.template == "help" and _fragment(app, "help", lang) in again.body


# -- every page in every language --------------------------------------------------------

PUBLIC = ["/", "/request", "/volunteer", "/privacy", "/login", "proposal", "gone"]
DASHBOARD = [
    "/dashboard/",
    "/dashboard/requests",
    "/dashboard/requests?flagged=1&state=open",
    "request",
    "/dashboard/volunteers",
    "volunteer",
    "person",
    "/dashboard/matching",
    "/dashboard/map",
    "/dashboard/figures",
    "/dashboard/messages",
    "/dashboard/export",
    "/dashboard/import",
    "/dashboard/audit",
    "/account/password",
    "/account/api-token",
    "/admin/accounts",
]


@pytest.fixture(scope="module")
def site(tmp_path_factory, sqlite_template) -> Iterator[tuple[FlaskClient, FlaskClient, dict]]:
    """One app with every language and a little of everything on its pages; an admin's
    client and a visitor's."""
    path = tmp_path_factory.mktemp("languages") / "test.db"
    shutil.copy(sqlite_template, path)
    app = create_app(base_config(f"sqlite:///{path}", LANGUAGES=list(SHIPPED)))
    with app.app_context():
        session = db.session
        req = builders.aid_request(session, flagged=True, flag_reason="needs location")
        builders.aid_request(
            session, status=RequestStatus.MATCHED, matched_at=dt.datetime.now(dt.UTC)
        )
        live = builders.match(session, expires_at=dt.datetime.now(dt.UTC) + dt.timedelta(hours=1))
        gone = builders.match(session, expires_at=dt.datetime.now(dt.UTC) - dt.timedelta(hours=1))
        session.add(Message(direction="outbound", phone=req.requester.phone, body="x",
                            template="need_confirmed", status="delivered",
                            person_id=req.requester.id))  # fmt: skip
        session.commit()
        secret = app.config["SECRET_KEY"]
        urls = {
            "request": f"/dashboard/requests/{req.id}",
            "volunteer": f"/dashboard/volunteers/{live.offer_id}",
            "person": f"/dashboard/people/{req.requester_id}",
            "proposal": f"/t/{proposal_token(secret, live)}",
            "gone": f"/t/{proposal_token(secret, gone)}",
        }
        admin = app.test_client()
        assert login(admin, account(session, Role.ADMIN).email).status_code == 303
        yield admin, app.test_client(), urls
        db.session.remove()
        db.engine.dispose()


def _untranslated(lang: str, page: str) -> list[str]:
    """English sentences on ``page`` that the language's catalogue translates."""
    if lang == "en":
        return []
    left = []
    for message in catalogue(lang):
        english = message.id
        if not isinstance(english, str) or len(english) < 16 or "%(" in english:
            continue
        if message.string and message.string != english and english in page:
            left.append(english)
    return left


@pytest.mark.parametrize("url", PUBLIC + DASHBOARD)
@pytest.mark.parametrize("lang", SHIPPED)
def test_every_page_in_every_language(site, lang, url) -> None:
    admin, visitor, urls = site
    client = visitor if url in PUBLIC else admin
    url = urls.get(url, url)
    response = client.get(url + ("&" if "?" in url else "?") + f"lang={lang}")
    assert response.status_code in (200, 410), (url, response.status_code)
    page = response.get_data(as_text=True)
    direction = LANGUAGES[lang].direction
    assert f'<html lang="{lang}" dir="{direction}">' in page
    assert "%(" not in page and not re.search(r"\bdash\.[a-z_]+\.[a-z_]+", page), url
    assert _untranslated(lang, page) == [], url
    if lang != "en":
        name = LANGUAGES[lang].name
        assert f'<span aria-current="true">{name}</span>' in page


def test_numbers_are_written_as_the_readers_locale_writes_them(app) -> None:
    """Median hours and distances as Babel's locale data writes them: "1,234.5" in English
    (and US Spanish), "1 234,5" in Russian and, through fr_HT, Haitian Creole."""
    from mutualaid.web import i18n

    for lang, written in [
        ("en", "1,234.5"),
        ("es", "1,234.5"),
        ("ru", "1\xa0234,5"),
        ("ht", "1\u202f234,5"),
    ]:
        with app.test_request_context(f"/?lang={lang}"):
            app.preprocess_request()
            assert i18n.number(1234.5, 1) == written, lang
