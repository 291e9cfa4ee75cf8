"""The page catalogues as translators leave them: no translation carries its context's
name ("[dash.nav] …", as a machine-filled catalogue writes it) to the page, and every
placeholder of the English text is in each translation."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.pofile import read_po

LOCALES = Path(__file__).resolve().parents[2] / "config" / "locales"
CATALOGUES = sorted(LOCALES.glob("*/LC_MESSAGES/messages.po"))


def _strings(message) -> list[str]:
    return list(message.string) if isinstance(message.string, tuple) else [message.string]


@pytest.mark.parametrize("po", CATALOGUES, ids=lambda p: p.parts[-3])
def test_no_translation_shows_its_context_or_loses_a_placeholder(po: Path) -> None:
    with po.open("rb") as f:
        catalogue = read_po(f)
    assert len(catalogue) > 100, po
    labelled, lost = [], []
    for message in catalogue:
        if not message.id:
            continue
        english = message.id if isinstance(message.id, str) else message.id[-1]
        wanted = set(re.findall(r"%\((\w+)\)s", english))
        for text in _strings(message):
            if not text:
                continue
            if message.context and text.startswith(f"[{message.context}]"):
                labelled.append((message.context, text))
            if not wanted <= set(re.findall(r"%\((\w+)\)s", text)) and "num" not in wanted:
                lost.append((english, text))
    assert labelled == [], labelled[:5]
    assert lost == [], lost[:5]
