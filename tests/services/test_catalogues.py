"""The categories of help: read from config/categories.toml, each with a label per language;
a malformed file is refused naming the entry."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualaid.services.catalogues import load_categories

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_network_categories_load_with_labels_in_every_language() -> None:
    categories = load_categories(CONFIG / "categories.toml")
    assert "groceries" in categories and len(categories) >= 5
    for category in categories.values():
        assert category.label("en") and category.label("es")
        assert category.label("fr") == category.label("en")  # falls back to English


@pytest.mark.parametrize(
    ("toml", "says"),
    [
        ("[Groceries]\nlabel.en = 'x'", "lower-case"),
        ("[groceries]\nlabel.es = 'x'", "label.en"),
        ("[groceries]\nlabel.en = 'x'\naliases = 'food'", "aliases"),
        ("[groceries]\nlabel.en = 'x'\nneeds_vetting = 'yes'", "needs_vetting"),
        ("", "no categories"),
    ],
)
def test_a_malformed_file_is_refused_by_name(tmp_path: Path, toml: str, says: str) -> None:
    path = tmp_path / "categories.toml"
    path.write_text(toml)
    with pytest.raises(ValueError, match=says):
        load_categories(path)
