"""Message catalogues: every SMS the service sends, per language, with its segment budget."""

from __future__ import annotations

import re
import string
import tomllib
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from sms.segments import Segments, segments

__all__ = [
    "Catalogue",
    "CatalogueError",
    "Template",
    "numbered",
]

_KEY = re.compile(r"^[a-z][a-z0-9_]*$")
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}$")
_ENTRY_FIELDS = frozenset({"text", "segments", "segments_ucs2", "example", "note"})
_MAX_BUDGET = 3
# A text in UCS-2 holds less than half as much per segment: its budget may be larger.
_MAX_UCS2_BUDGET = 4


class CatalogueError(ValueError):
    """A catalogue is malformed, or a message was asked for that it cannot render."""


@dataclass(frozen=True, slots=True)
class Template:
    """One message in one language.

    ``segments`` is the most SMS segments it may cost when rendered with
    realistic values in GSM-7; ``segments_ucs2`` the most when the rendering is
    UCS-2 (an accented name or an emoji in a value, or a language whose own
    script is UCS-2): see :meth:`budget`. ``example`` holds realistic values
    (the catalogue test renders every template with them and counts).
    """

    key: str
    language: str
    text: str
    segments: int
    placeholders: frozenset[str]
    example: Mapping[str, str] = field(default_factory=dict)
    segments_ucs2: int | None = None

    def budget(self, encoding: str) -> int:
        """The most segments this message may cost once rendered in ``encoding``.

        GSM-7: ``segments``. UCS-2: ``segments_ucs2`` when the catalogue gives it;
        otherwise ``segments`` for a text whose own words are UCS-2 (its author
        counted in UCS-2), and one segment more for a GSM-7 text that a value
        turned UCS-2.

        >>> t = Template("hi", "en", "Hi {name}", 1, frozenset({"name"}))
        >>> t.budget("GSM-7"), t.budget("UCS-2")
        (1, 2)
        """
        if encoding == "GSM-7":
            return self.segments
        if self.segments_ucs2 is not None:
            return self.segments_ucs2
        own = segments(self.text.replace("{", "").replace("}", ""))
        return self.segments if own.encoding == "UCS-2" else self.segments + 1

    def render(self, values: Mapping[str, object]) -> str:
        given = set(values)
        missing = sorted(self.placeholders - given)
        extra = sorted(given - self.placeholders)
        if missing or extra:
            problems = []
            if missing:
                problems.append(f"missing {', '.join(missing)}")
            if extra:
                problems.append(f"unexpected {', '.join(extra)}")
            expected = ", ".join(sorted(self.placeholders)) or "no values"
            raise CatalogueError(
                f"message {self.key!r} ({self.language}) takes {expected}: {'; '.join(problems)}"
            )
        return self.text.format_map({k: str(v) for k, v in values.items()})

    def render_example(self) -> str:
        return self.render(self.example)

    def cost(self) -> Segments:
        """Segments of the example rendering."""
        return segments(self.render_example())


def _placeholders(text: str, where: str) -> frozenset[str]:
    names = set()
    try:
        parsed = list(string.Formatter().parse(text))
    except ValueError as exc:
        raise CatalogueError(f"{where}: bad template: {exc}") from None
    for _, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CatalogueError(
                f"{where}: placeholder {{{name}}} must be a plain name like {{ref}}"
            )
        names.add(name)
    return frozenset(names)


class Catalogue:
    """All templates of all languages; English (or ``fallback``) is the reference.

    Every language must have exactly the fallback's keys, each with the same
    placeholders: a catalogue that would render differently per language is
    refused at load time, not when someone texts.
    """

    def __init__(
        self, templates: Mapping[str, Mapping[str, Template]], fallback: str = "en"
    ) -> None:
        if fallback not in templates:
            raise CatalogueError(f"no {fallback!r} catalogue to fall back on")
        reference = templates[fallback]
        if any(t.segments == 0 for t in reference.values()):
            raise CatalogueError(f"catalogue {fallback!r}: every message needs its segments")
        templates = {
            language: {
                key: _with_default_budget(template, reference.get(key))
                for key, template in by_key.items()
            }
            for language, by_key in templates.items()
        }
        for language, by_key in templates.items():
            missing = sorted(set(reference) - set(by_key))
            extra = sorted(set(by_key) - set(reference))
            if missing or extra:
                raise CatalogueError(
                    f"catalogue {language!r} must have the same keys as {fallback!r}: "
                    f"missing {missing or 'none'}, extra {extra or 'none'}"
                )
            for key, template in by_key.items():
                if template.placeholders != reference[key].placeholders:
                    raise CatalogueError(
                        f"message {key!r}: {language} uses {sorted(template.placeholders)}, "
                        f"{fallback} uses {sorted(reference[key].placeholders)}"
                    )
        self.fallback = fallback
        self._templates = {lang: dict(by_key) for lang, by_key in templates.items()}
        self.languages: tuple[str, ...] = tuple(sorted(templates))

    @classmethod
    def load(
        cls,
        config_dir: str | Path,
        fallback: str = "en",
        languages: Iterable[str] | None = None,
    ) -> Catalogue:
        """Read ``<config_dir>/messages/<lang>.toml`` for every (or the given) language; the
        fallback's is always read."""
        folder = Path(config_dir) / "messages"
        paths = sorted(folder.glob("*.toml"))
        if languages is not None:
            wanted = {*languages, fallback}
            paths = [p for p in paths if p.stem in wanted]
        if not paths:
            raise CatalogueError(f"no message catalogues in {folder}")
        templates = {}
        for path in paths:
            with path.open("rb") as f:
                try:
                    data = tomllib.load(f)
                except tomllib.TOMLDecodeError as exc:
                    raise CatalogueError(f"{path}: {exc}") from exc
            templates[path.stem] = _read_language(path.stem, data, str(path))
        return cls(templates, fallback)

    @classmethod
    def from_tables(
        cls, tables: Mapping[str, Mapping[str, object]], fallback: str = "en"
    ) -> Catalogue:
        """Build from already-parsed tables keyed by language code."""
        return cls(
            {
                lang: _read_language(lang, data, f"catalogue {lang!r}")
                for lang, data in tables.items()
            },
            fallback,
        )

    def language(self, language: str | None) -> str:
        """The catalogue language for a person's language: "es-MX" → "es", unknown → fallback."""
        if language:
            code = language.strip().lower().replace("_", "-")
            for candidate in (code, code.split("-")[0]):
                if candidate in self._templates:
                    return candidate
        return self.fallback

    def keys(self) -> tuple[str, ...]:
        return tuple(sorted(self._templates[self.fallback]))

    def template(self, key: str, language: str | None = None) -> Template:
        by_key = self._templates[self.language(language)]
        try:
            return by_key[key]
        except KeyError:
            raise CatalogueError(f"no message {key!r} in the catalogue") from None

    def templates(self) -> Iterator[Template]:
        """Every template of every language."""
        for language in self.languages:
            yield from (self._templates[language][key] for key in self.keys())

    def budget(self, key: str, language: str | None = None, encoding: str = "GSM-7") -> int:
        """The most segments message ``key`` may cost in ``encoding`` (in ``language``;
        default the largest over the languages)."""
        if language is not None:
            return self.template(key, language).budget(encoding)
        return max(self.template(key, lang).budget(encoding) for lang in self.languages)

    def render(self, key: str, language: str | None, /, **values: object) -> str:
        """Message ``key`` in the person's language (falling back to English) with ``values``.

        >>> cat = Catalogue.from_tables({"en": {"hi": {"text": "Hi {name}", "segments": 1}}})
        >>> cat.render("hi", "fr", name="Ana")
        'Hi Ana'
        """
        return self.template(key, language).render(values)


def _with_default_budget(template: Template, reference: Template | None) -> Template:
    """A message whose language file gives no budget takes the reference language's, for
    each encoding (a new language's file may leave budgets out until someone counts)."""
    if template.segments or reference is None:
        return template
    return replace(template, segments=reference.segments, segments_ucs2=reference.budget("UCS-2"))


def _whole(value: object, highest: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= highest


def _read_language(language: str, data: Mapping[str, object], where: str) -> dict[str, Template]:
    if not _LANGUAGE_CODE.match(language):
        raise CatalogueError(f"{where}: {language!r} is not a language code")
    templates = {}
    for key, entry in data.items():
        here = f"{where}: [{key}]"
        if not _KEY.match(key) or not isinstance(entry, Mapping):
            raise CatalogueError(f"{here} must be a table named in lower_snake_case")
        unknown = set(entry) - _ENTRY_FIELDS
        if unknown:
            raise CatalogueError(f"{here}: unknown fields {sorted(unknown)}")
        text, budget, example = entry.get("text"), entry.get("segments"), entry.get("example", {})
        ucs2 = entry.get("segments_ucs2")
        if not isinstance(text, str) or not text.strip():
            raise CatalogueError(f"{here}: text must be a non-empty string")
        # Left out, a budget is the reference language's (0 marks it until the Catalogue
        # fills it in).
        if budget is not None and not _whole(budget, _MAX_BUDGET):
            raise CatalogueError(f"{here}: segments must be a whole number from 1 to {_MAX_BUDGET}")
        if ucs2 is not None and not _whole(ucs2, _MAX_UCS2_BUDGET):
            raise CatalogueError(
                f"{here}: segments_ucs2 must be a whole number from 1 to {_MAX_UCS2_BUDGET}"
            )
        if not isinstance(example, Mapping) or not all(
            isinstance(v, str | int | float) for v in example.values()
        ):
            raise CatalogueError(f"{here}: example must be a table of values")
        placeholders = _placeholders(text, here)
        templates[key] = Template(
            key=key,
            language=language,
            text=text,
            segments=budget or 0,
            placeholders=placeholders,
            example={k: str(v) for k, v in example.items()},
            segments_ucs2=ucs2,
        )
    return templates


def numbered(options: Sequence[str], separator: str = ", ") -> str:
    """Options as a numbered list for a reply-with-a-number question.

    >>> numbered(["Groceries", "Hot meals"])
    '1 Groceries, 2 Hot meals'
    """
    return separator.join(f"{n} {label}" for n, label in enumerate(options, start=1))
