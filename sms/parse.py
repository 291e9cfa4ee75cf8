"""Reading an inbound SMS body as a command: intent, arguments and language.

The keyword tables are data (``config/keywords/<lang>.toml``); this module is
the rules that apply them. In order:

1. **Empty.** No words → TEXT (a lone "?" → HELP).
2. **Numbered choice.** When the previous question offered ``choices``, a
   reply made only of their numbers ("2", "#2", "option 2", "1 y 3") or of
   their names/category aliases is CHOICE.
3. **STOP** — generous, as US rules want, but never by accident. The message
   opts out when (a) it contains a STOP "anywhere" phrase ("stop texting",
   "unsubscribe", "no mas mensajes", "dejen de escribirme") not negated just
   before, or (b) the message, or one sentence of it, starts with a STOP
   word (exact or one typo) and is short — at most two more words — or
   everything after is in ``stop_tail``: "STOP", "stop it", "baja por
   favor", "who is this? STOP". "stop by the store on 5th and get milk" is
   not an opt-out: a long sentence that merely starts with "stop"; nor is
   "I told him to stop." (the word inside a sentence).
4. **Whole-message keyword** ("alone" lists, then "lead" lists matched in
   full): "y", "ok", "listo", "help", "YES 4821" (a proposal code may
   accompany yes / no / done).
5. **Leading keyword** ("lead" lists, longest phrase wins): "need groceries
   11216", "OFREZCO comida 5 km Bushwick". "help" / "ayuda" followed by
   words is a need. A HUMAN, CANCEL, STATUS or OFFER phrase later in a
   message that leads with a need wins ("I need to talk to a person").
6. **Keyword anywhere** ("anywhere" lists): "hi, my name is Ana and I need
   food", in priority HUMAN, CANCEL, OFFER, NEED, STATUS.
7. Otherwise TEXT, still carrying any categories, ZIP or place found.

**Typos.** A word that matches no keyword exactly may be read as one when it
is the first word, at least 3 letters, keeps the keyword's first letter, is
one insertion, deletion, substitution or swap away ("yse", "stpo", "ofer",
"hlep"), is not itself a known word (any keyword, filler or ``not_typos``
entry such as "shop" or "step"), and every keyword that close means the
same intent — "stat" is as close to START as to STATS (status), so it is
left alone. Elongations ("yesss", "nooo", "siii") match outright. Category
aliases of 5+ letters get the same one-typo tolerance ("grocerys").

**Negation.** A keyword with a negator ("no", "not", "don't", "can't", "ya
no", …) at most two words before it in the same sentence is not that
keyword. A negated need ("I don't need help") is TEXT; with a no-longer
marker ("no need anymore", "ya no necesito", "don't need it any more") it is
CANCEL, since that is what the person asks for. "can't help" / "no puedo
ayudar" is NO. A message starting "no" followed by another keyword ("no
need …", "no stop") is that negation, not NO; "No, I need food" (a comma) is
NO. A negated urgent word ("not urgent") does not set ``urgent``.

**Arguments.** Need, offer and free text carry ``categories`` (aliases from
the ``categories`` argument, longest first, one typo allowed on aliases of
5+ letters, negated ones dropped), ``radius_km`` (a number with a km or
mile unit) and ``location_text``: "lat,lon" if given, else a 5-digit ZIP,
else the words after a place word ("near", "in", "cerca de") up to a word
that cannot be part of a place ("my", "tomorrow"), else — need and offer
only — the first stretch of at most four left-over words containing none
and looking like a name: capitalised ("Bushwick") or an address ("123 Main
St"); "comida caliente" leaves "caliente" alone, and the app asks where.
Yes, no, done, cancel and status carry ``code``: the token right after (or
before) the keyword, or a 3–6 digit number ending the message.

**Language** is the keyword's language when only one table has it ("si" →
es, "yes" → en); for shared keywords ("no", "ok", "info") the politeness
words decide when they can ("no gracias" → es), then the sender's stored
language (``language``) when it is one of them, else None. A phrase that
means different things in different languages means what it means in the
sender's language (else the meaning of the first language, by code, that has it).

**Look-alikes.** Bodies are NFKC-normalised and Cyrillic/Greek look-alikes
read as Latin (``sms.text.fold``), so "ЅТОР" and "ＳＴＯＰ" are STOP.
"""

from __future__ import annotations

import functools
import re
import tomllib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal

from sms.phones import NumberWords
from sms.text import clean, prepare, squeeze, tokenize, within_one_edit

__all__ = [
    "Command",
    "Intent",
    "Keywords",
    "KeywordsError",
    "Via",
    "parse",
]

_KM_PER_MILE = 1.609344
_LANGUAGE_CODE = re.compile(r"^[a-z]{2,3}(?:[-_][A-Za-z0-9]{2,8})?$")
_LATLON = re.compile(r"(?<![\d.])([-+]?\d{1,2}\.\d{2,})\s*[,;]\s*([-+]?\d{1,3}\.\d{2,})(?![\d.])")
_ZIP = re.compile(r"^\d{5}$")
_CODE = re.compile(r"^(?=.*\d)[0-9a-z]{1,8}$")


class Intent(StrEnum):
    """What an inbound message asks for."""

    NEED = "need"
    OFFER = "offer"
    YES = "yes"
    NO = "no"
    DONE = "done"
    CANCEL = "cancel"
    STATUS = "status"
    PAUSE = "pause"
    RESUME = "resume"
    HELP = "help"
    STOP = "stop"
    START = "start"
    HUMAN = "human"
    CHOICE = "choice"
    TEXT = "text"


Via = Literal["alone", "lead", "anywhere", "typo", "negation", "choice", "stop-rule", "none"]
"""How the intent was found; "anywhere" and "none" are weak (mid-sentence or
no keyword), so a conversation relaying text may prefer to relay those."""


@dataclass(frozen=True, slots=True)
class Command:
    """An inbound SMS read as a command.

    ``text`` is the body cleaned for display and relaying (control characters
    dropped, whitespace collapsed). ``keyword`` is the matched keyword as
    folded words ("i need", "yes"), ``via`` how it was matched.
    ``choice`` is the first picked option and ``picks`` all of them ("1 3").
    """

    intent: Intent
    text: str
    language: str | None = None
    categories: tuple[str, ...] = ()
    location_text: str | None = None
    radius_km: float | None = None
    code: str | None = None
    choice: str | None = None
    picks: tuple[str, ...] = ()
    urgent: bool = False
    keyword: str | None = None
    via: Via = "none"


class KeywordsError(ValueError):
    """A keyword table is malformed or contradicts another."""


Phrase = tuple[str, ...]
_KINDS = ("alone", "lead", "anywhere")
_WORD_LISTS = (
    "fillers",
    "greetings",
    "negators",
    "no_longer",
    "near",
    "not_place",
    "articles",
    "urgent",
    "choice_prefixes",
    "code_prefixes",
    "radius_before",
    "radius_after",
    "km_units",
    "mile_units",
    "stop_tail",
    "not_typos",
)
_CODED = frozenset({Intent.YES, Intent.NO, Intent.DONE, Intent.CANCEL, Intent.STATUS})
_ANSWERS = frozenset({Intent.YES, Intent.NO, Intent.DONE})
_COMMAND_INTENTS = tuple(i for i in Intent if i not in (Intent.CHOICE, Intent.TEXT))
_ANYWHERE_PRIORITY = (Intent.HUMAN, Intent.CANCEL, Intent.OFFER, Intent.NEED, Intent.STATUS)
_OVERRIDES_NEED = frozenset({Intent.HUMAN, Intent.CANCEL, Intent.STATUS, Intent.OFFER})


def _phrase(text: str) -> Phrase:
    return tuple(t.key for t in tokenize(prepare(text)))


@dataclass(frozen=True, slots=True)
class _Entry:
    intent: Intent
    phrase: Phrase
    languages: frozenset[str]


class _PhraseIndex:
    """Phrases looked up by first word, longest first."""

    def __init__(self) -> None:
        self._by_first: dict[str, list[tuple[Phrase, object]]] = {}

    def add(self, phrase: Phrase, value: object) -> None:
        bucket = self._by_first.setdefault(phrase[0], [])
        bucket.append((phrase, value))
        bucket.sort(key=lambda item: -len(item[0]))

    def longest_at(self, keys: Sequence[str], i: int) -> tuple[Phrase, object] | None:
        for phrase, value in self._by_first.get(keys[i], ()):
            if tuple(keys[i : i + len(phrase)]) == phrase:
                return phrase, value
        return None


class _Table:
    """One kind (alone, lead or anywhere) of keywords across languages."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.entries: dict[Phrase, _Entry] = {}
        # A phrase with different intents in different languages ("pause" a break in one,
        # something else in another): its meaning in each language.
        self.by_language: dict[Phrase, dict[str, _Entry]] = {}
        self.index = _PhraseIndex()

    def add(self, phrase: Phrase, intent: Intent, language: str) -> None:
        known = self.entries.get(phrase)
        if known is None:
            entry = _Entry(intent, phrase, frozenset({language}))
        elif phrase in self.by_language or known.intent is not intent:
            meanings = self.by_language.setdefault(
                phrase,
                {lang: _Entry(known.intent, phrase, frozenset({lang})) for lang in known.languages},
            )
            if language in meanings and meanings[language].intent is not intent:
                raise KeywordsError(
                    f"{' '.join(phrase)!r} is a {self.kind!r} keyword for both "
                    f"{meanings[language].intent.value} and {intent.value} ({language})"
                )
            same = [e for e in meanings.values() if e.intent is intent]
            languages = frozenset({language}).union(*(e.languages for e in same))
            for lang in languages:
                meanings[lang] = _Entry(intent, phrase, languages)
            return
        else:
            entry = _Entry(intent, phrase, known.languages | {language})
        self.entries[phrase] = entry
        if known is None:
            self.index.add(phrase, phrase)

    def get(self, phrase: Phrase, prefer: str | None) -> _Entry | None:
        meanings = self.by_language.get(phrase)
        if meanings and prefer in meanings:
            return meanings[prefer]
        return self.entries.get(phrase)

    def longest_at(self, keys: Sequence[str], i: int, prefer: str | None = None) -> _Entry | None:
        found = self.index.longest_at(keys, i)
        return None if found is None else self.get(found[0], prefer)


class Keywords:
    """Keyword tables of every configured language, compiled for `parse`.

    Build with `Keywords.load(config_dir)` (reads ``keywords/*.toml``; the
    file stem is the language code) or `Keywords.from_tables`.
    """

    def __init__(self, tables: Mapping[str, Mapping[str, object]]) -> None:
        if not tables:
            raise KeywordsError("no keyword tables given")
        self.languages: tuple[str, ...] = tuple(sorted(tables))
        # Number words of every language: the relay's phone number filter reads them.
        self.numbers = NumberWords.from_tables(
            numbers for t in tables.values() if isinstance(numbers := t.get("numbers"), Mapping)
        )
        self._tables = {kind: _Table(kind) for kind in _KINDS}
        self._words: dict[str, set[Phrase]] = {name: set() for name in _WORD_LISTS}
        self._word_languages: dict[tuple[str, Phrase], set[str]] = {}
        self._word_index: dict[str, _PhraseIndex] = {name: _PhraseIndex() for name in _WORD_LISTS}
        for language, table in sorted(tables.items()):
            self._add_language(language, table)
        self.known_words: frozenset[str] = frozenset(
            word
            for phrases in (
                *(t.entries for t in self._tables.values()),
                *self._words.values(),
            )
            for phrase in phrases
            for word in phrase
        )
        # Single words that a typo may stand for, by kind.
        self._typo_targets: dict[str, list[_Entry]] = {
            kind: [
                e for p, e in self._tables[kind].entries.items() if len(p) == 1 and len(p[0]) >= 3
            ]
            for kind in ("alone", "lead")
        }
        self._squeezed: dict[str, dict[str, Phrase]] = {
            kind: {squeeze(p[0]): p for p in self._tables[kind].entries if len(p) == 1}
            for kind in ("alone", "lead")
        }

    @classmethod
    def load(cls, config_dir: str | Path, languages: Iterable[str] | None = None) -> Keywords:
        """Read ``<config_dir>/keywords/<lang>.toml`` for every (or the given) language."""
        folder = Path(config_dir) / "keywords"
        paths = sorted(folder.glob("*.toml"))
        if languages is not None:
            wanted = set(languages)
            paths = [p for p in paths if p.stem in wanted]
        if not paths:
            raise KeywordsError(f"no keyword tables in {folder}")
        tables: dict[str, Mapping[str, object]] = {}
        for path in paths:
            with path.open("rb") as f:
                try:
                    tables[path.stem] = tomllib.load(f)
                except tomllib.TOMLDecodeError as exc:
                    raise KeywordsError(f"{path}: {exc}") from exc
        return cls(tables)

    @classmethod
    def from_tables(cls, tables: Mapping[str, Mapping[str, object]]) -> Keywords:
        """Build from already-parsed tables, keyed by language code."""
        return cls(tables)

    def _add_language(self, language: str, table: Mapping[str, object]) -> None:
        where = f"keywords for {language!r}"
        if not _LANGUAGE_CODE.match(language):
            raise KeywordsError(f"{where}: not a language code")
        # [numbers] is read by sms.phones.NumberWords.
        unknown = set(table) - {"intents", "words", "numbers"}
        if unknown:
            raise KeywordsError(f"{where}: unknown sections {sorted(unknown)}")
        intents = table.get("intents", {})
        if not isinstance(intents, Mapping):
            raise KeywordsError(f"{where}: [intents] must be a table")
        for name, kinds in intents.items():
            try:
                intent = Intent(name)
            except ValueError:
                raise KeywordsError(f"{where}: unknown intent {name!r}") from None
            if intent in (Intent.CHOICE, Intent.TEXT) or not isinstance(kinds, Mapping):
                raise KeywordsError(f"{where}: [intents.{name}] is not a keyword table")
            for kind, phrases in kinds.items():
                if kind not in _KINDS:
                    raise KeywordsError(f"{where}: intents.{name}.{kind} is not one of {_KINDS}")
                for phrase in _phrases(phrases, f"{where}: intents.{name}.{kind}"):
                    self._tables[kind].add(phrase, intent, language)
        words = table.get("words", {})
        if not isinstance(words, Mapping):
            raise KeywordsError(f"{where}: [words] must be a table")
        for name, phrases in words.items():
            if name not in _WORD_LISTS:
                raise KeywordsError(f"{where}: unknown word list words.{name}")
            for phrase in _phrases(phrases, f"{where}: words.{name}"):
                self._word_languages.setdefault((name, phrase), set()).add(language)
                if phrase not in self._words[name]:
                    self._words[name].add(phrase)
                    self._word_index[name].add(phrase, phrase)

    # Lookups used by the parser.

    def entry(self, kind: str, phrase: Phrase, prefer: str | None = None) -> _Entry | None:
        return self._tables[kind].get(phrase, prefer)

    def longest(
        self, kind: str, keys: Sequence[str], i: int, prefer: str | None = None
    ) -> _Entry | None:
        return self._tables[kind].longest_at(keys, i, prefer)

    def word_at(self, name: str, keys: Sequence[str], i: int) -> Phrase | None:
        found = self._word_index[name].longest_at(keys, i)
        return None if found is None else found[0]

    def word_languages(self, name: str, phrase: Phrase) -> frozenset[str]:
        return frozenset(self._word_languages.get((name, phrase), ()))

    def has_word(self, name: str, phrase: Phrase) -> bool:
        return phrase in self._words[name]

    def typo(self, word: str, kinds: Sequence[str]) -> _Entry | None:
        """The keyword a misspelt word stands for, when there is exactly one meaning.

        Ambiguity is judged against every single-word keyword; ``kinds`` then
        says which lists the meant keyword must come from.
        """
        if word in self.known_words:
            return None
        if squeeze(word) != word:
            for kind in kinds:
                squeezed = self._squeezed[kind].get(squeeze(word))
                if squeezed is not None:
                    return self._tables[kind].entries[squeezed]
        if len(word) < 3 or not word.isalpha():
            return None
        # Each keyword word within one edit, read as its exact match would be.
        meanings: dict[str, _Entry] = {}
        for kind in (*kinds, "alone", "lead"):
            for entry in self._typo_targets[kind]:
                target = entry.phrase[0]
                fresh = target not in meanings and target[0] == word[0]
                if fresh and within_one_edit(word, target):
                    meanings[target] = entry
        if len({e.intent for e in meanings.values()}) != 1:
            return None
        meant = [e for kind in kinds for e in self._typo_targets[kind] if e in meanings.values()]
        if not meant:
            return None
        languages = frozenset().union(*(e.languages for e in meanings.values()))
        return _Entry(meant[0].intent, meant[0].phrase, languages)

    def is_command_word(self, word: str) -> bool:
        """A one-word keyword of some intent ("voluntaria", "listo")."""
        return any((word,) in table.entries for table in self._tables.values())


def _phrases(value: object, where: str) -> list[Phrase]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise KeywordsError(f"{where} must be a list of strings")
    phrases = []
    for text in value:
        phrase = _phrase(text)
        if not phrase:
            raise KeywordsError(f"{where}: {text!r} has no words")
        phrases.append(phrase)
    return phrases


@dataclass(frozen=True, slots=True)
class _Categories:
    index: _PhraseIndex
    aliases: dict[Phrase, str]
    typo_words: dict[str, str]


@functools.lru_cache(maxsize=32)
def _compile_categories(items: tuple[tuple[str, tuple[str, ...]], ...]) -> _Categories:
    index = _PhraseIndex()
    aliases: dict[Phrase, str] = {}
    for key, words in items:
        for alias in (key, *words):
            phrase = _phrase(alias)
            if phrase and phrase not in aliases:
                aliases[phrase] = key
                index.add(phrase, key)
    typo_words = {p[0]: k for p, k in aliases.items() if len(p) == 1 and len(p[0]) >= 5}
    return _Categories(index, aliases, typo_words)


class _Preferring:
    """The keyword tables as one person reads them: a phrase whose meaning differs between
    languages means what it means in their language (``prefer``)."""

    def __init__(self, keywords: Keywords, prefer: str | None) -> None:
        self._kw, self.prefer = keywords, prefer

    def __getattr__(self, name: str) -> Any:
        return getattr(self._kw, name)

    def entry(self, kind: str, phrase: Phrase) -> _Entry | None:
        return self._kw.entry(kind, phrase, self.prefer)

    def longest(self, kind: str, keys: Sequence[str], i: int) -> _Entry | None:
        return self._kw.longest(kind, keys, i, self.prefer)


class _Reader:
    """One message being read: its tokens, which are noise, and which are used."""

    def __init__(self, text: str, keywords: Keywords, prefer: str | None = None) -> None:
        self.kw = _Preferring(keywords, prefer)
        self.prepared = prepare(text)
        self.latlon: str | None = None
        spans: list[tuple[int, int]] = []
        for m in _LATLON.finditer(self.prepared):
            lat, lon = float(m.group(1)), float(m.group(2))
            if abs(lat) <= 90 and abs(lon) <= 180:
                spans.append(m.span())
                if self.latlon is None:
                    self.latlon = f"{m.group(1).lstrip('+')},{m.group(2).lstrip('+')}"
        tokens = [t for t in tokenize(self.prepared) if not any(a <= t.start < b for a, b in spans)]
        # Emoji that are not keywords are decoration.
        self.tokens = [t for t in tokens if not t.is_emoji or t.key in keywords.known_words]
        self.keys = [t.key for t in self.tokens]
        n = len(self.tokens)
        self.noise: set[int] = set()
        i = 0
        while i < n:
            phrase = keywords.word_at("fillers", self.keys, i)
            if phrase and not self._keyword_here(i, len(phrase)):
                self.noise.update(range(i, i + len(phrase)))
                i += len(phrase)
            else:
                i += 1
        # Greetings are skipped only at the start ("so", "please", "um").
        i = 0
        while i < n:
            if i in self.noise:
                i += 1
                continue
            phrase = keywords.word_at("greetings", self.keys, i)
            if not phrase:
                break
            self.noise.update(range(i, i + len(phrase)))
            i += len(phrase)
        self.content = [i for i in range(n) if i not in self.noise]
        self.ckeys = [self.keys[i] for i in self.content]
        # paused[j] / broken[j]: a comma or sentence break (broken: a sentence
        # break) lies between content words j-1 and j.
        self.paused = [
            j > 0 and any(self.tokens[k].paused for k in range(self.content[j - 1] + 1, i + 1))
            for j, i in enumerate(self.content)
        ]
        self.broken = [
            j > 0 and any(self.tokens[k].broken for k in range(self.content[j - 1] + 1, i + 1))
            for j, i in enumerate(self.content)
        ]
        self.used: set[int] = set(self.noise)
        # Tokens of the command keyword: used, but may still name a category ("i can drive").
        self.keyword_tokens: set[int] = set()

    def _keyword_here(self, i: int, length: int) -> bool:
        """A filler that starts a longer keyword ("sorry no") is not noise.

        An "alone" keyword counts only when it runs to the end of the message.
        """
        for kind in _KINDS:
            entry = self.kw.longest(kind, self.keys, i)
            if entry is None or len(entry.phrase) <= length:
                continue
            if kind != "alone" or i + len(entry.phrase) == len(self.keys):
                return True
        return False

    def noise_languages(self) -> set[str]:
        """Languages that the fillers and greetings of the message single out ("gracias")."""
        votes: set[str] = set()
        for i in sorted(self.noise):
            for name in ("fillers", "greetings"):
                phrase = self.kw.word_at(name, self.keys, i)
                if phrase is not None:
                    languages = self.kw.word_languages(name, phrase)
                    if len(languages) == 1:
                        votes |= languages
        return votes

    def use(self, content_positions: Iterable[int]) -> None:
        self.used.update(self.content[j] for j in content_positions)

    def negated_before(self, j: int) -> bool:
        """A negator ends one or two content words before position j, in the same sentence."""
        for end in (j - 1, j - 2):
            if end < 0 or any(self.paused[k] for k in range(end + 1, j + 1)):
                return False
            for start in range(max(0, end - 2), end + 1):
                if self.kw.has_word("negators", tuple(self.ckeys[start : end + 1])):
                    return True
        return False

    def sentences(self) -> list[tuple[int, int]]:
        """Content positions [start, end) of each sentence."""
        starts = [j for j in range(len(self.ckeys)) if j == 0 or self.broken[j]]
        return list(zip(starts, [*starts[1:], len(self.ckeys)], strict=True))

    def has_word_anywhere(self, name: str) -> bool:
        return any(self.kw.word_at(name, self.keys, i) for i in range(len(self.keys)))


@dataclass(frozen=True, slots=True)
class _Found:
    intent: Intent
    entry: _Entry | None
    via: Via
    start: int = 0  # content position of the keyword
    end: int = 0  # content position after it


def parse(
    body: str,
    *,
    keywords: Keywords,
    categories: Mapping[str, Sequence[str]] | None = None,
    choices: Sequence[str] | None = None,
    language: str | None = None,
) -> Command:
    """Read an inbound SMS body.

    ``categories`` maps category keys to the aliases people text for them;
    ``choices`` are the option keys the previous question listed, in order,
    so that "2" picks ``choices[1]``; ``language`` is the sender's stored
    language, which decides what a word shared by several languages means
    and which language it is.

    >>> kw = Keywords.from_tables({"en": {"intents": {"need": {"lead": ["need"]}}}})
    >>> cmd = parse("NEED food 11216", keywords=kw, categories={"groceries": ["food"]})
    >>> cmd.intent, cmd.categories, cmd.location_text
    (<Intent.NEED: 'need'>, ('groceries',), '11216')
    """
    text = clean(body)
    reader = _Reader(text, keywords, language)
    cats = _compile_categories(
        tuple(
            (key, (aliases,) if isinstance(aliases, str) else tuple(aliases))
            for key, aliases in sorted((categories or {}).items())
        )
    )
    if not reader.content:
        if not reader.tokens and reader.latlon is None and "?" in text:
            return Command(Intent.HELP, text, via="alone", keyword="?")
        return _with_arguments(Command(Intent.TEXT, text), reader, cats, None)

    if choices:
        picked = _read_choices(reader, cats, choices)
        if picked:
            return Command(
                Intent.CHOICE,
                text,
                choice=picked[0],
                picks=picked,
                categories=tuple(c for c in picked if c in set(cats.aliases.values())),
                via="choice",
            )

    found = (
        _read_stop(reader)
        or _read_alone(reader)
        or _read_lead(reader)
        or _read_anywhere(reader)
        or _Found(Intent.TEXT, None, "none")
    )
    if found.intent is Intent.NO and found.entry is not None:
        found = _negation_after_no(reader, found)
    if found.intent is Intent.NEED and found.via in ("lead", "typo"):
        found = _need_overridden(reader, found)

    reader.use(range(found.start, found.end))
    reader.keyword_tokens = {reader.content[j] for j in range(found.start, found.end)}
    stored, language = language, None
    if found.entry is not None:
        candidates = set(found.entry.languages)
        if len(candidates) > 1:
            # "no gracias": the keyword is shared, the politeness is not.
            candidates &= reader.noise_languages() or candidates
        if len(candidates) > 1 and stored in candidates:
            candidates = {stored}  # "pause", "ok": the sender's own language
        if len(candidates) == 1:
            (language,) = candidates
    command = Command(
        found.intent,
        text,
        language=language,
        keyword=" ".join(found.entry.phrase) if found.entry else None,
        via=found.via,
        urgent=_urgent(reader),
    )
    return _with_arguments(command, reader, cats, found)


def _read_choices(reader: _Reader, cats: _Categories, choices: Sequence[str]) -> tuple[str, ...]:
    """The options a reply picks, or () when it is not purely a choice."""
    by_name: dict[Phrase, str] = {_phrase(c): c for c in choices if _phrase(c)}
    for phrase, key in cats.aliases.items():
        if key in choices:
            by_name.setdefault(phrase, key)
    keys = reader.ckeys
    picked: list[str] = []
    j = 0
    while j < len(keys):
        prefix = reader.kw.word_at("choice_prefixes", keys, j)
        name = _longest_name(by_name, keys, j)
        if name is not None:
            picked.append(by_name[name])
            j += len(name)
        elif reader.tokens[reader.content[j]].is_number:
            for part in re.split(r"[.,]", keys[j]):
                number = int(part) if part.isdigit() else 0
                if not 1 <= number <= len(choices):
                    return ()
                picked.append(choices[number - 1])
            j += 1
        elif prefix is not None:
            j += len(prefix)
        else:
            return ()
    return tuple(dict.fromkeys(picked))


def _longest_name(names: Mapping[Phrase, str], keys: Sequence[str], j: int) -> Phrase | None:
    for length in range(len(keys) - j, 0, -1):
        if tuple(keys[j : j + length]) in names:
            return tuple(keys[j : j + length])
    return None


def _read_stop(reader: _Reader) -> _Found | None:
    """The STOP rule of the module docstring."""
    keys = reader.ckeys
    for j in range(len(keys)):
        entry = reader.kw.longest("anywhere", keys, j)
        if entry and entry.intent is Intent.STOP and not reader.negated_before(j):
            return _Found(Intent.STOP, entry, "stop-rule", j, j + len(entry.phrase))
    # A STOP sentence: the whole message, or one sentence of it ("who is this? STOP").
    for start, end in reader.sentences():
        found = _stop_sentence(reader, keys[start:end])
        if found is not None:
            return replace(found, start=found.start + start, end=found.end + start)
    return None


def _stop_sentence(reader: _Reader, keys: Sequence[str]) -> _Found | None:
    whole = reader.kw.entry("alone", tuple(keys))
    if whole and whole.intent is Intent.STOP:
        return _Found(Intent.STOP, whole, "alone", 0, len(keys))
    entry = reader.kw.longest("lead", keys, 0)
    via: Via = "stop-rule"
    if entry is None:
        entry = reader.kw.typo(keys[0], ("alone", "lead") if len(keys) == 1 else ("lead",))
        via = "typo"
    if entry is None or entry.intent is not Intent.STOP:
        return None
    rest = keys[len(entry.phrase) :]
    tail_only = all(reader.kw.has_word("stop_tail", (w,)) for w in rest)
    if len(rest) <= 2 or tail_only:
        return _Found(Intent.STOP, entry, via, 0, len(entry.phrase))
    return None


def _read_alone(reader: _Reader) -> _Found | None:
    keys = tuple(reader.ckeys)
    for kind in ("alone", "lead"):
        entry = reader.kw.entry(kind, keys)
        if entry is not None:
            return _Found(entry.intent, entry, "alone", 0, len(keys))
    if len(keys) == 1:
        entry = reader.kw.typo(keys[0], ("alone", "lead"))
        if entry is not None:
            return _Found(entry.intent, entry, "typo", 0, 1)
    # A proposal code beside an answer: "YES 4821", "4821 si", "y 4821".
    for j in (0, len(keys) - 1):
        if len(keys) >= 2 and _CODE.match(keys[j]):
            rest = keys[1:] if j == 0 else keys[:-1]
            found = _read_alone_words(reader, rest)
            if found is not None and found.intent in _ANSWERS:
                offset = 1 if j == 0 else 0
                return _Found(found.intent, found.entry, found.via, offset, offset + len(rest))
    return None


def _read_alone_words(reader: _Reader, keys: Sequence[str]) -> _Found | None:
    for kind in ("alone", "lead"):
        entry = reader.kw.entry(kind, tuple(keys))
        if entry is not None:
            return _Found(entry.intent, entry, "alone")
    if len(keys) == 1:
        entry = reader.kw.typo(keys[0], ("alone", "lead"))
        if entry is not None:
            return _Found(entry.intent, entry, "typo")
    return None


def _read_lead(reader: _Reader) -> _Found | None:
    keys = reader.ckeys
    entry = reader.kw.longest("lead", keys, 0)
    if entry is not None and entry.intent is not Intent.STOP:
        return _Found(entry.intent, entry, "lead", 0, len(entry.phrase))
    entry = reader.kw.typo(keys[0], ("lead",))
    if entry is not None and entry.intent is not Intent.STOP:
        return _Found(entry.intent, entry, "typo", 0, 1)
    return None


def _matches_anywhere(reader: _Reader, kinds: Sequence[str]) -> list[tuple[_Found, bool]]:
    """Every keyword phrase in the message, with whether it is negated."""
    keys = reader.ckeys
    found = []
    for j in range(len(keys)):
        for kind in kinds:
            entry = reader.kw.longest(kind, keys, j)
            if entry is not None:
                hit = _Found(entry.intent, entry, "anywhere", j, j + len(entry.phrase))
                found.append((hit, reader.negated_before(j)))
    return found


def _read_anywhere(reader: _Reader) -> _Found | None:
    positive = [f for f, negated in _matches_anywhere(reader, ("anywhere",)) if not negated]
    for intent in _ANYWHERE_PRIORITY:
        for f in positive:
            if f.intent is intent:
                return f
    for f, negated in _matches_anywhere(reader, ("anywhere", "lead")):
        if negated:
            return _negated(reader, f)
    return None


def _negated(reader: _Reader, f: _Found) -> _Found:
    """What a negated keyword means: see the module docstring."""
    if f.intent is Intent.NEED:
        if reader.has_word_anywhere("no_longer"):
            return _Found(Intent.CANCEL, f.entry, "negation", f.start, f.end)
        return _Found(Intent.TEXT, f.entry, "negation", f.start, f.end)
    if f.intent is Intent.OFFER:
        return _Found(Intent.NO, f.entry, "negation", f.start, f.end)
    return _Found(Intent.TEXT, f.entry, "negation", f.start, f.end)


def _negation_after_no(reader: _Reader, found: _Found) -> _Found:
    """ "no need anymore" negates the need; "no thanks" and "No, I need food" are NO."""
    assert found.entry is not None
    if found.via == "alone" or not reader.kw.has_word("negators", found.entry.phrase):
        return found
    keys = reader.ckeys
    for j in (found.end, found.end + 1):
        if j >= len(keys) or any(reader.paused[k] for k in range(found.end, j + 1)):
            break
        for kind in ("lead", "anywhere", "alone"):
            entry = reader.kw.longest(kind, keys, j)
            if entry is not None and entry.intent is not Intent.NO:
                hit = _Found(entry.intent, entry, "anywhere", j, j + len(entry.phrase))
                return _negated(reader, hit)
    return found


def _need_overridden(reader: _Reader, found: _Found) -> _Found:
    for f, negated in _matches_anywhere(reader, ("anywhere",)):
        if not negated and f.intent in _OVERRIDES_NEED and f.start >= found.end:
            return f
    return found


def _urgent(reader: _Reader) -> bool:
    keys = reader.keys
    content_pos = {i: j for j, i in enumerate(reader.content)}
    for i in range(len(keys)):
        phrase = reader.kw.word_at("urgent", keys, i)
        if phrase is None:
            continue
        j = content_pos.get(i)
        if j is None or not reader.negated_before(j):
            reader.used.update(range(i, i + len(phrase)))
            return True
    return False


def _with_arguments(
    command: Command, reader: _Reader, cats: _Categories, found: _Found | None
) -> Command:
    intent = command.intent
    if intent in _CODED and found is not None:
        return replace(command, code=_code_after(reader, found))
    if intent not in (Intent.NEED, Intent.OFFER, Intent.TEXT):
        return command
    categories = _categories(reader, cats)
    radius = _radius(reader)
    location = _location(reader, loose=intent is not Intent.TEXT)
    return replace(command, categories=categories, radius_km=radius, location_text=location)


def _code_after(reader: _Reader, found: _Found) -> str | None:
    """The proposal code or request reference of an answer.

    Right after the keyword ("YES 4821", "yes code 4821"), right before it
    ("4821 yes"), or else a number of 3 to 6 digits ending the message
    ("can't do it today sorry 4821").
    """
    keys = reader.ckeys
    j = found.end
    while j < len(keys) and reader.kw.has_word("code_prefixes", (keys[j],)):
        j += 1
    candidates = [j, found.start - 1]
    last = len(keys) - 1
    if last >= found.end and keys[last].isdigit() and 3 <= len(keys[last]) <= 6:
        candidates.append(last)
    for j in candidates:
        if 0 <= j < len(keys) and _CODE.match(keys[j]):
            reader.use([j])
            return reader.tokens[reader.content[j]].raw.upper()
    return None


def _categories(reader: _Reader, cats: _Categories) -> tuple[str, ...]:
    """Categories named in the message, except those of a negated need ("don't need X")."""
    found: list[str] = []
    keys = reader.keys
    content_pos = {i: j for j, i in enumerate(reader.content)}
    # Content positions governed by a negated need or offer, up to the next comma.
    negated: set[int] = set()
    for f, is_negated in _matches_anywhere(reader, ("lead", "anywhere")):
        if is_negated and f.intent in (Intent.NEED, Intent.OFFER):
            j = f.end
            while j < len(reader.ckeys) and not reader.paused[j]:
                negated.add(j)
                j += 1

    def take(i: int, length: int, key: str) -> None:
        reader.used.update(range(i, i + length))
        if content_pos.get(i) not in negated:
            found.append(key)

    def free(k: int) -> bool:
        return k not in reader.used or k in reader.keyword_tokens

    i = 0
    while i < len(keys):
        if not free(i):
            i += 1
            continue
        hit = cats.index.longest_at(keys, i)
        if hit is not None and all(free(k) for k in range(i, i + len(hit[0]))):
            take(i, len(hit[0]), str(hit[1]))
            i += len(hit[0])
            continue
        word = keys[i]
        if len(word) >= 5 and word.isalpha() and word not in reader.kw.known_words:
            close = {
                key
                for alias, key in cats.typo_words.items()
                if alias[0] == word[0] and within_one_edit(word, alias)
            }
            if len(close) == 1:
                take(i, 1, close.pop())
        i += 1
    return tuple(dict.fromkeys(found))


def _radius(reader: _Reader) -> float | None:
    keys = reader.keys
    for i in range(len(keys) - 1):
        if i in reader.used or not reader.tokens[i].is_number:
            continue
        unit_at = i + 1
        km = reader.kw.word_at("km_units", keys, unit_at)
        miles = reader.kw.word_at("mile_units", keys, unit_at)
        unit = km or miles
        if unit is None:
            continue
        value = float(keys[i].replace(",", "."))
        if value <= 0:
            continue
        end = unit_at + len(unit)
        reader.used.update(range(i, end))
        _use_around(reader, i, end)
        return round(value * (_KM_PER_MILE if miles and not km else 1.0), 3)
    return None


def _use_around(reader: _Reader, start: int, end: int) -> None:
    """Mark "within" before and "of" after a radius as part of it."""
    keys = reader.keys
    for length in (3, 2, 1):
        s = start - length
        if s >= 0 and reader.kw.has_word("radius_before", tuple(keys[s:start])):
            reader.used.update(range(s, start))
            break
    if end < len(keys):
        phrase = reader.kw.word_at("radius_after", keys, end)
        if phrase:
            reader.used.update(range(end, end + len(phrase)))


def _location(reader: _Reader, *, loose: bool) -> str | None:
    """A ZIP, "lat,lon", or the place words left over; see the module docstring."""
    if reader.latlon is not None:
        return reader.latlon
    free = [i for i in range(len(reader.tokens)) if i not in reader.used]
    for i in free:
        if _ZIP.match(reader.keys[i]):
            return reader.tokens[i].raw
    keys = reader.keys
    for n, i in enumerate(free):
        marker = reader.kw.word_at("near", keys, i)
        if marker is None or any(k in reader.used for k in range(i, i + len(marker))):
            continue
        run: list[int] = []
        for k in free[n + len(marker) :]:
            if k != (run[-1] + 1 if run else i + len(marker)) or (run and reader.tokens[k].broken):
                break
            if reader.kw.has_word("not_place", (keys[k],)):
                break
            run.append(k)
        place = _place(reader, run) if any(keys[k].isalpha() for k in run) else None
        if place:
            return place
    if not loose:
        return None
    # No marker: the first stretch of left-over words that reads as a place.
    runs: list[list[int]] = []
    for i in free:
        if i in reader.noise:
            continue
        if runs and runs[-1][-1] == i - 1 and not reader.tokens[i].broken:
            runs[-1].append(i)
        else:
            runs.append([i])
    for run in runs:
        if len(run) > 4 or any(
            reader.kw.has_word("not_place", (keys[i],))
            or reader.kw.word_at("near", keys, i)
            or reader.kw.is_command_word(keys[i])
            for i in run
        ):
            continue
        if not any(keys[i].isalpha() for i in run) or not _looks_like_a_name(reader, run):
            continue
        place = _place(reader, run)
        if place:
            return place
    return None


def _looks_like_a_name(reader: _Reader, run: list[int]) -> bool:
    """Capitalised ("Bushwick") or a street address ("123 Main St").

    Without a place word, a lower-case leftover is more often an adjective
    ("comida caliente") than a place, and asking where is better than
    guessing. In an all-capitals message capitals say nothing.
    """
    tokens = [reader.tokens[i] for i in run]
    if tokens[0].is_number and len(tokens) > 1 and tokens[1].key.isalpha():
        # "123 Main St", not "2 the doctor" (txt-speak "to")
        return not reader.kw.has_word("articles", (tokens[1].key,))
    has_lower = any(ch.islower() for ch in reader.prepared)
    return has_lower and any(t.raw[0].isupper() for t in tokens if t.key.isalpha())


def _place(reader: _Reader, run: list[int]) -> str | None:
    while run and reader.kw.has_word("articles", (reader.keys[run[0]],)):
        run = run[1:]
    while run and reader.kw.has_word("articles", (reader.keys[run[-1]],)):
        run = run[:-1]
    if not run:
        return None
    if run == list(range(run[0], run[-1] + 1)):
        place = reader.prepared[reader.tokens[run[0]].start : reader.tokens[run[-1]].end]
    else:
        place = " ".join(reader.tokens[i].raw for i in run)
    return place.strip(" .,;:-") or None
