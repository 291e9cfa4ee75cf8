"""The page catalogues as a test reads them: what the code and templates say (extracted as
`make translations-extract` does) and each shipped language's PO file."""

from __future__ import annotations

import functools
from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parents[2]
LOCALES = ROOT / "config" / "locales"
SHIPPED = (
    "en",
    *sorted(p.stem for p in (ROOT / "config" / "languages").glob("*.toml") if p.stem != "en"),
)
KEYWORDS = {
    "_": None,
    "gettext": None,
    "ngettext": (1, 2),
    "pgettext": ((1, "c"), 2),
    "npgettext": ((1, "c"), 2, 3),
    "N_": None,
    "NP_": ((1, "c"), 2),
    "NNP_": ((1, "c"), 2, 3),
}


@functools.cache
def extracted() -> Catalog:
    catalog = Catalog()
    method_map = [("mutualaid/**.py", "python"), ("mutualaid/templates/**.html", "jinja2")]
    for _, _, message, _, context in extract_from_dir(
        ROOT, method_map, keywords=KEYWORDS, comment_tags=()
    ):
        catalog.add(message, None, context=context)
    return catalog


@functools.cache
def catalogue(lang: str) -> Catalog:
    with (LOCALES / lang / "LC_MESSAGES" / "messages.po").open("rb") as f:
        return read_po(f)
