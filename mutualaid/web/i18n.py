"""Page text in the reader's language: gettext catalogues, plural forms, numbers and dates.

The English text in the templates and views is the message id; each other language's
translations are ``config/locales/<lang>/LC_MESSAGES/messages.po`` (``make
translations-extract`` / ``-update`` keep them in step with the code, ``make translations``
compiles them to .mo, as ``make run`` and ``make test`` do). A .mo that is missing or older
than its .po is compiled in memory at start-up, so a fresh checkout never shows English
for lack of a build step. Numbers and dates are formatted by Babel for the reader's locale.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
import logging
import re
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date, format_datetime
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal
from babel.support import NullTranslations, Translations
from flask import Flask, current_app, g, has_request_context, request
from markupsafe import Markup, escape

from mutualaid.services.languages import Language
from mutualaid.web.labels import COUNTED, DETAILS, LABELS, MESSAGE_KINDS, REASON_PATTERNS, REASONS

log = logging.getLogger(__name__)

LANG_COOKIE = "lang"
DOMAIN = "messages"


def N_(message: str) -> str:
    """Marks ``message`` for extraction; translated later, where it is shown."""
    return message


def load_translations(config_dir: Path, languages: list[str]) -> dict[str, NullTranslations]:
    """{lang: translations} for each language; a language without a catalogue (English, the
    language of the message ids) gets the identity."""
    return {lang: _translations(_po_path(config_dir, lang)) for lang in languages}


def _po_path(config_dir: Path, lang: str) -> Path:
    return Path(config_dir) / "locales" / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def _translations(po: Path) -> NullTranslations:
    mo = po.with_suffix(".mo")
    po_time = po.stat().st_mtime if po.exists() else None
    mo_time = mo.stat().st_mtime if mo.exists() else None
    return _read_catalogue(po, po_time, mo_time)


@functools.cache
def _read_catalogue(po: Path, po_time: float | None, mo_time: float | None) -> NullTranslations:
    # Cached by file and modification times: every app of a test run shares one parse.
    mo = po.with_suffix(".mo")
    if mo_time is not None and (po_time is None or mo_time >= po_time):
        with mo.open("rb") as f:
            return Translations(f, domain=DOMAIN)
    if po_time is None:
        return NullTranslations()
    log.info("%s has no up-to-date .mo (make translations): compiling it in memory", po)
    with po.open("rb") as f:
        catalog = read_po(f, domain=DOMAIN)
    buffer = io.BytesIO()
    write_mo(buffer, catalog)
    buffer.seek(0)
    return Translations(buffer, domain=DOMAIN)


def init_app(app: Flask) -> None:
    app.extensions["web_translations"] = load_translations(
        Path(app.config["CONFIG_DIR"]), app.config["LANGUAGES"]
    )
    app.before_request(_choose_language)
    app.after_request(_remember_language)
    app.jinja_env.add_extension("jinja2.ext.i18n")
    app.jinja_env.install_gettext_callables(  # type: ignore[attr-defined]
        _page_gettext,
        _page_ngettext,
        newstyle=True,
        pgettext=_page_pgettext,
        npgettext=_page_npgettext,
    )
    app.jinja_env.globals.update(
        current_language=current_language,
        text_direction=text_direction,
        language_name=language_name,
        label=label,
        counted=counted,
        reason=reason,
        message_kind=message_kind,
    )
    app.add_template_filter(number)
    app.add_template_filter(localdate)


def current_language() -> str:
    if has_request_context() and g.get("lang"):
        return g.lang
    return current_app.config["LANGUAGES"][0]


def _language(code: str) -> Language | None:
    return current_app.extensions["languages"].get(code)


def language_name(code: str) -> str:
    """A language's name in itself ("Español"), from config/languages/<code>.toml."""
    found = _language(code)
    return found.name if found else code


def text_direction() -> str:
    """ "rtl" or "ltr": the direction of the current language's script."""
    found = _language(current_language())
    return found.direction if found else "ltr"


def locale() -> Locale:
    found = _language(current_language())
    return Locale.parse(found.locale if found else current_language())


def _choose_language() -> None:
    languages = current_app.config["LANGUAGES"]
    asked = request.args.get("lang")
    if asked in languages:
        g.lang, g.set_lang_cookie = asked, True
        return
    cookie = request.cookies.get(LANG_COOKIE)
    if cookie in languages:
        g.lang = cookie
        return
    g.lang = request.accept_languages.best_match(languages) or languages[0]


def _remember_language(response: Any) -> Any:
    if g.get("set_lang_cookie"):
        response.set_cookie(
            LANG_COOKIE, g.lang, max_age=365 * 24 * 3600, samesite="Lax", httponly=True
        )
    return response


def _catalogue() -> NullTranslations:
    found = current_app.extensions["web_translations"].get(current_language())
    return found if found is not None else NullTranslations()


# Python-side: like Jinja's newstyle gettext, the text is %-formatted with the keywords
# (so a literal % is written %% in every message id), and ngettext fills in num.


def gettext(message: str, **values: Any) -> str:
    return _catalogue().ugettext(message) % values


def ngettext(singular: str, plural: str, num: int, **values: Any) -> str:
    values.setdefault("num", num)
    return _catalogue().ungettext(singular, plural, num) % values


def pgettext(context: str, message: str, **values: Any) -> str:
    return _catalogue().upgettext(context, message) % values


def npgettext(context: str, singular: str, plural: str, num: int, **values: Any) -> str:
    values.setdefault("num", num)
    return _catalogue().unpgettext(context, singular, plural, num) % values


# Templates: the same, with the translation escaped (a "&" in a text is "&amp;" on the
# page; a translator cannot add markup); Jinja escapes the values it fills in.


def _page_gettext(message: str) -> Markup:
    return escape(_catalogue().ugettext(message))


def _page_ngettext(singular: str, plural: str, num: int) -> Markup:
    return escape(_catalogue().ungettext(singular, plural, num))


def _page_pgettext(context: str, message: str) -> Markup:
    return escape(_catalogue().upgettext(context, message))


def _page_npgettext(context: str, singular: str, plural: str, num: int) -> Markup:
    return escape(_catalogue().unpgettext(context, singular, plural, num))


# Words chosen by a value at run time ("open" → the label of that request state): the
# tables in labels.py, each entry a context and a message id.


def labelled(group: str, value: str) -> bool:
    return value in LABELS.get(group, {})


def label(group: str, value: str | None, **values: Any) -> str:
    """The label of ``value`` in ``group`` ("dash.state", "open" → "abierta"); an unknown
    value is shown as it is."""
    entry = LABELS.get(group, {}).get(value or "")
    if entry is None:
        return value or ""
    context, message = entry
    return pgettext(context, message, **values)


def counted(group: str, value: str, num: int, **values: Any) -> str:
    """The plural form of ``value``'s label for ``num`` ("32 abiertas", "1 abierta")."""
    entry = COUNTED.get(group, {}).get(value)
    if entry is None:
        return value
    context, singular, plural = entry
    return npgettext(context, singular, plural, num, **values)


def reason(text: str | None) -> str:
    """A reason the service wrote (a flag, a detail) in the reader's language; anything
    else (a coordinator's own words) as it is."""
    if not text:
        return ""
    if text in REASONS:
        return pgettext(*REASONS[text])
    for pattern, (context, singular, plural) in REASON_PATTERNS:
        found = re.fullmatch(pattern, text)
        if found:
            return npgettext(context, singular, plural, int(found.group(1)))
    return text


def detail_name(key: str) -> str:
    """The name of an audit detail in the reader's language ("radius_km" → "radius (km)")."""
    if key in DETAILS:
        return pgettext(*DETAILS[key])
    return key.replace("_", " ")


def message_kind(template: str | None) -> str:
    """What kind of text an SMS was, from its catalogue key, in the reader's language."""
    if not template:
        return ""
    for prefix, (context, message) in MESSAGE_KINDS:
        if template.startswith(prefix):
            return pgettext(context, message)
    return template.replace("_", " ")


def number(value: float | int | None, digits: int | None = None) -> str:
    """A number as the reader's locale writes it ("1,234.5", "1.234,5", "١٬٢٣٤٫٥")."""
    if value is None:
        return ""
    if digits is not None:
        value = round(value, digits)
        pattern = None if digits == 0 else f"#,##0.{'0' * digits}"
        return format_decimal(value, format=pattern, locale=locale())
    return format_decimal(value, locale=locale())


def localdate(value: dt.date | dt.datetime | None, form: str = "medium") -> str:
    """A date (or a UTC time, in the network's time zone) as the reader's locale writes it."""
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        zone = ZoneInfo(current_app.config["TIMEZONE"])
        return format_datetime(value.astimezone(zone), form, locale=locale())
    return format_date(value, form, locale=locale())
