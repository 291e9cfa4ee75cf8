"""Fitting a text with real values into its segment budget: what gives way, and how.

A template's budget (sms.catalog.Template.budget) holds for its example values; real
values are longer, or carry one accented letter that makes the whole text UCS-2. Before
a text is queued it is rendered and counted; over budget, the values its rule names are
cut at a word, in order, ending with an ellipsis ("..." in a GSM-7 text, "…" in a UCS-2
one, where it costs one unit) — and, for the value the rule's ``link`` names, with a
link to where the whole of it can be read. Typographic punctuation in values (curly
quotes, dashes, a phone's "…") is written the GSM-7 way first, as Twilio's Smart
Encoding would, so that an iPhone's apostrophe alone never doubles a text's cost.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from sms.catalog import CatalogueError, Template
from sms.segments import Segments, segments

__all__ = ["Fitted", "Rule", "Rules", "fit", "plain"]

_PLAIN = str.maketrans(
    {
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
        "\u2032": "'",
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u2033": '"',
        "\u00ab": '"',
        "\u00bb": '"',
        "\u2010": "-",
        "\u2011": "-",
        "\u2012": "-",
        "\u2013": "-",
        "\u2014": "-",
        "\u2015": "-",
        "\u2212": "-",
        "\u2026": "...",
        "\u00a0": " ",
        "\u2002": " ",
        "\u2003": " ",
        "\u2009": " ",
        "\u202f": " ",
        "\u200b": "",
        "\ufeff": "",
    }
)
_TRIM = " ,;:.-"


def plain(value: str) -> str:
    """``value`` with typographic punctuation as GSM-7 writes it.

    >>> plain("I\u2019m outside \u2013 gate\u2026")
    "I'm outside - gate..."
    """
    return value.translate(_PLAIN)


@dataclass(frozen=True, slots=True)
class Rule:
    """What may give way in one message: ``cut`` the values that may be shortened, in
    that order; ``link`` the one of them that, once cut, ends with a link to the whole."""

    cut: tuple[str, ...] = ()
    link: str | None = None


@dataclass(frozen=True, slots=True)
class Fitted:
    """A text ready to queue: its cost, its budget, and which values were shortened."""

    text: str
    cost: Segments
    budget: int
    cut: tuple[str, ...] = ()

    @property
    def over(self) -> bool:
        """Still over budget once everything its rule allows was cut."""
        return self.cost.count > self.budget


class Rules:
    """The rule of every message (config/segments.toml); a message without one is sent
    as rendered (and counted)."""

    def __init__(self, rules: Mapping[str, Rule]) -> None:
        self._rules = dict(rules)

    def __getitem__(self, key: str) -> Rule:
        return self._rules.get(key, Rule())

    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self._rules))

    @classmethod
    def load(cls, config_dir: str | Path) -> Rules:
        """Read ``<config_dir>/segments.toml`` (none there: no message is shortened)."""
        path = Path(config_dir) / "segments.toml"
        if not path.exists():
            return cls({})
        with path.open("rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise CatalogueError(f"{path}: {exc}") from exc
        return cls.from_table(data, where=str(path))

    @classmethod
    def from_table(cls, data: Mapping[str, object], *, where: str = "segments") -> Rules:
        rules = {}
        for key, entry in data.items():
            here = f"{where}: [{key}]"
            if not isinstance(entry, Mapping) or set(entry) - {"cut", "link"}:
                raise CatalogueError(f"{here} takes cut = [values] and link = value")
            cut, link = entry.get("cut", []), entry.get("link")
            if not isinstance(cut, list) or not all(isinstance(c, str) for c in cut):
                raise CatalogueError(f"{here}: cut must be a list of placeholder names")
            if link is not None and link not in cut:
                raise CatalogueError(f"{here}: link must be one of the values in cut")
            rules[key] = Rule(tuple(cut), link)
        return cls(rules)

    def check(self, templates: Iterable[Template]) -> None:
        """Every value a rule names is a placeholder of its message (a typo would
        silently never cut)."""
        by_key = {t.key: t for t in templates}
        for key, rule in self._rules.items():
            if key not in by_key:
                raise CatalogueError(f"segments: [{key}] is not a message in the catalogue")
            unknown = set(rule.cut) - by_key[key].placeholders
            if unknown:
                raise CatalogueError(f"segments: [{key}] cuts unknown values {sorted(unknown)}")


def _cost(template: Template, values: Mapping[str, str]) -> tuple[str, Segments, int]:
    text = template.render(values)
    cost = segments(text)
    return text, cost, template.budget(cost.encoding)


def _prefixes(value: str) -> list[str]:
    """``value`` cut after each of its words, longest first, down to nothing."""
    ends = [i for i in range(len(value)) if value[i].isspace() and not value[i - 1].isspace()]
    cuts = [value[:i].rstrip(_TRIM) for i in reversed(ends)]
    return [c for c in dict.fromkeys(cuts) if c] + [""]


def fit(
    template: Template,
    values: Mapping[str, object],
    rule: Rule = Rule(),
    *,
    link: str | None = None,
) -> Fitted:
    """Render ``template`` with ``values`` within its budget, shortening as ``rule`` says.

    Each value in ``rule.cut`` in turn is cut after the longest run of its words that
    fits (with an ellipsis; with `` link`` when it is ``rule.link`` and a link is
    given), or to the least it can be; the next is cut only if that is not enough. A
    text still over budget once all of them are cut is returned as short as it got
    (``over``): it is counted, never dropped.

    >>> from sms.catalog import Catalogue
    >>> cat = Catalogue.from_tables({"en": {"t": {"text": "Task: {details}", "segments": 1}}})
    >>> fitted = fit(cat.template("t"), {"details": "milk " * 40}, Rule(("details",)))
    >>> fitted.cost.count, fitted.text[-12:]
    (1, 'milk milk...')
    """
    current = {k: plain(str(v)) for k, v in values.items()}
    text, cost, budget = _cost(template, current)
    if cost.count <= budget:
        return Fitted(text, cost, budget)
    shortened: list[str] = []
    for name in rule.cut:
        original = current.get(name) or ""
        if not original:
            continue
        tail = f" {link}" if link and name == rule.link else ""
        best: tuple[str, Segments, int, str] | None = None
        for prefix in _prefixes(original):
            candidate = f"{prefix}...{tail}" if prefix else tail.strip()
            t_text, t_cost, t_budget = _cost(template, {**current, name: candidate})
            if prefix and t_cost.encoding == "UCS-2":
                # One unit instead of three, in a text that is UCS-2 anyway.
                candidate = f"{prefix}\u2026{tail}"
                t_text, t_cost, t_budget = _cost(template, {**current, name: candidate})
            if t_cost.count <= t_budget:
                best = (t_text, t_cost, t_budget, candidate)
                break
        if best is None:
            # Nothing fits: the least this value can be, if that is cheaper than it was.
            least = tail.strip()
            trial = {**current, name: least}
            t_text, t_cost, t_budget = _cost(template, trial)
            if t_cost.count < cost.count:
                best = (t_text, t_cost, t_budget, least)
        if best is None:
            continue
        text, cost, budget, current[name] = best
        shortened.append(name)
        if cost.count <= budget:
            break
    return Fitted(text, cost, budget, tuple(shortened))
