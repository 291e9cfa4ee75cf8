"""Page text in the reader's language, from config/web/<lang>.toml."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

from flask import Flask, current_app, g, request

LANG_COOKIE = "lang"


def load_catalogues(config_dir: Path, languages: list[str]) -> dict[str, dict[str, str]]:
    """Return {lang: {dotted.key: text}} for each language."""
    catalogues = {}
    for lang in languages:
        with open(config_dir / "web" / f"{lang}.toml", "rb") as f:
            catalogues[lang] = _flatten(tomllib.load(f))
    return catalogues


def _flatten(tree: dict[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            flat.update(_flatten(value, f"{prefix}{key}."))
        else:
            flat[f"{prefix}{key}"] = str(value)
    return flat


def init_app(app: Flask) -> None:
    app.extensions["web_text"] = load_catalogues(
        Path(app.config["CONFIG_DIR"]), app.config["LANGUAGES"]
    )
    app.before_request(_choose_language)
    app.after_request(_remember_language)
    app.jinja_env.globals.update(t=translate, tn=translate_n, current_language=current_language)


def current_language() -> str:
    return g.get("lang") or current_app.config["LANGUAGES"][0]


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


def translate(key: str, **values: Any) -> str:
    """The text for ``key`` in the current language, falling back to the default language."""
    catalogues = current_app.extensions["web_text"]
    text = catalogues.get(current_language(), {}).get(key)
    if text is None:
        text = catalogues[current_app.config["LANGUAGES"][0]].get(key, key)
    return text.format(**values) if values else text


def translate_n(key: str, n: int, **values: Any) -> str:
    """``key`` for a count ``n``: its ``_one`` form when n is 1 and the catalogue has one
    ("1 text found"), else ``key`` ("3 texts found"); ``n`` is filled in as {n}."""
    catalogues = current_app.extensions["web_text"]
    if n == 1:
        one = f"{key}_one"
        language = catalogues.get(current_language(), {})
        if one in language or one in catalogues[current_app.config["LANGUAGES"][0]]:
            return translate(one, n=n, **values)
    return translate(key, n=n, **values)
