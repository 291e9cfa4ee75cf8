"""Categories of help, read from config/categories.toml; the number words of every
language, from config/keywords."""

from __future__ import annotations

import functools
import tomllib
from dataclasses import dataclass
from pathlib import Path

from sms.phones import NumberWords


@functools.cache
def number_words() -> NumberWords:
    """The number words of every language (config/keywords/<lang>.toml, [numbers]), for
    finding phone numbers spelled out."""
    from mutualaid.settings import CONFIG_DIR

    return NumberWords.load(CONFIG_DIR)


@dataclass(frozen=True)
class Category:
    key: str
    labels: dict[str, str]
    aliases: tuple[str, ...]
    needs_vetting: bool

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels["en"]


def load_categories(path: Path) -> dict[str, Category]:
    """Return the categories in file order; a malformed entry raises ValueError naming it."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    categories: dict[str, Category] = {}
    for key, entry in data.items():
        where = f"{path.name}: [{key}]"
        if not key.isascii() or not key.replace("_", "").isalnum() or key != key.lower():
            raise ValueError(f"{where}: a key is lower-case letters, digits and _")
        labels = entry.get("label")
        if not isinstance(labels, dict) or "en" not in labels:
            raise ValueError(f"{where}: needs label.en (and a label per language)")
        aliases = entry.get("aliases", [])
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"{where}: aliases must be a list of words")
        needs_vetting = entry.get("needs_vetting", False)
        if not isinstance(needs_vetting, bool):
            raise ValueError(f"{where}: needs_vetting must be true or false")
        categories[key] = Category(key, dict(labels), tuple(aliases), needs_vetting)
    if not categories:
        raise ValueError(f"{path.name}: no categories")
    return categories
