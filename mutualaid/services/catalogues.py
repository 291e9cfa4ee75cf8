"""Categories of help, read from config/categories.toml with each language's labels and
aliases from config/languages/<lang>.toml; the number words of every language, from
config/keywords."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from mutualaid.services.languages import language_file
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
    fallback: str = "en"

    def label(self, language: str) -> str:
        return self.labels.get(language) or self.labels[self.fallback]


def load_categories(config_dir: Path, languages: Sequence[str]) -> dict[str, Category]:
    """The categories of config/categories.toml in file order, each with its label and
    aliases in each of ``languages`` (config/languages/<lang>.toml, [categories.<key>]);
    the first language must label every category, the others fall back to it. A malformed
    entry raises ValueError naming it."""
    path = Path(config_dir) / "categories.toml"
    with open(path, "rb") as f:
        data = tomllib.load(f)
    words = {lang: _language_categories(config_dir, lang, data) for lang in languages}
    categories: dict[str, Category] = {}
    for key, entry in data.items():
        where = f"{path.name}: [{key}]"
        if not key.isascii() or not key.replace("_", "").isalnum() or key != key.lower():
            raise ValueError(f"{where}: a key is lower-case letters, digits and _")
        if not isinstance(entry, dict):
            raise ValueError(f"{where}: must be a table")
        needs_vetting = entry.get("needs_vetting", False)
        if not isinstance(needs_vetting, bool):
            raise ValueError(f"{where}: needs_vetting must be true or false")
        labels = {lang: w[key][0] for lang, w in words.items() if key in w and w[key][0]}
        if languages[0] not in labels:
            raise ValueError(
                f"languages/{languages[0]}.toml: [categories.{key}] needs a label "
                "(the first language labels every category)"
            )
        aliases = tuple(a for w in words.values() if key in w for a in w[key][1])
        categories[key] = Category(key, labels, aliases, needs_vetting, languages[0])
    if not categories:
        raise ValueError(f"{path.name}: no categories")
    return categories


def _language_categories(
    config_dir: Path, language: str, known: Mapping[str, object]
) -> dict[str, tuple[str, list[str]]]:
    path = language_file(config_dir, language)
    with open(path, "rb") as f:
        tables = tomllib.load(f).get("categories", {})
    found = {}
    for key, entry in tables.items():
        where = f"{path.name}: [categories.{key}]"
        if key not in known:
            raise ValueError(f"{where}: no such category in categories.toml")
        label, aliases = entry.get("label", ""), entry.get("aliases", [])
        if not isinstance(label, str):
            raise ValueError(f"{where}: label must be text")
        if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
            raise ValueError(f"{where}: aliases must be a list of words")
        found[key] = (label, aliases)
    return found
