"""The categories of help: keys in config/categories.toml, each language's labels and
aliases in config/languages/<lang>.toml; a malformed file is refused naming the entry."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from mutualaid.services.catalogues import load_categories

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_network_categories_load_with_labels_in_every_language() -> None:
    categories = load_categories(CONFIG, ["en", "es"])
    assert "groceries" in categories and len(categories) >= 5
    for category in categories.values():
        assert category.label("en") and category.label("es")
        assert category.label("es") != category.label("en")
        assert category.label("fr") == category.label("en")  # falls back to the first
    assert "comida" in categories["groceries"].aliases and "food" in categories["groceries"].aliases


def test_only_the_networks_languages_give_aliases() -> None:
    english = load_categories(CONFIG, ["en"])
    assert "comida" not in english["groceries"].aliases and "food" in english["groceries"].aliases
    assert english["groceries"].label("es") == "Groceries"


@pytest.fixture
def config(tmp_path: Path) -> Path:
    (tmp_path / "languages").mkdir()
    shutil.copy(CONFIG / "languages" / "en.toml", tmp_path / "languages" / "en.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("categories", "english", "says"),
    [
        ("[Groceries]\nneeds_vetting = false", "", "lower-case"),
        ("[groceries]\n", "", "needs a label"),
        ("[groceries]\n", "[categories.groceries]\nlabel = 'x'\naliases = 'food'", "aliases"),
        ("[groceries]\nneeds_vetting = 'yes'", "", "needs_vetting"),
        ("[groceries]\n", "[categories.grocery]\nlabel = 'x'", "no such category"),
        ("", "", "no categories"),
    ],
)
def test_a_malformed_file_is_refused_by_name(
    config: Path, categories: str, english: str, says: str
) -> None:
    (config / "categories.toml").write_text(categories)
    (config / "languages" / "en.toml").write_text("name = 'English'\n" + english)
    with pytest.raises(ValueError, match=says):
        load_categories(config, ["en"])
