"""The parser's rules one at a time: choices, typos, look-alikes, tables as data, robustness."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sms.parse import Command, Intent, Keywords, KeywordsError, parse
from sms.text import clean, fold, tokenize, within_one_edit

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
CATEGORY_KEYS = [
    "groceries",
    "meals",
    "pharmacy",
    "rides",
    "childcare",
    "checkin",
    "errands",
    "household",
]


# Numbered choices


@pytest.mark.parametrize(
    ("body", "picks"),
    [
        ("2", ("meals",)),
        ("#3", ("pharmacy",)),
        ("2.", ("meals",)),
        ("option 1", ("groceries",)),
        ("opcion 4", ("rides",)),
        ("1 4", ("groceries", "rides")),
        ("1,4", ("groceries", "rides")),
        ("1, 4 and 7", ("groceries", "rides", "errands")),
        ("1 y 3", ("groceries", "pharmacy")),
        ("8!", ("household",)),
        ("food", ("groceries",)),
        ("comida", ("groceries",)),
        ("rides and food", ("rides", "groceries")),
        ("3 3", ("pharmacy",)),
        ("２", ("meals",)),
    ],
)
def test_numbered_choices(
    body: str, picks: tuple[str, ...], keywords: Keywords, categories: Any
) -> None:
    command = parse(body, keywords=keywords, categories=categories, choices=CATEGORY_KEYS)
    assert command.intent is Intent.CHOICE
    assert (command.choice, command.picks) == (picks[0], picks)
    assert command.categories == picks


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("9", Intent.TEXT),  # out of range: not a choice
        ("0", Intent.TEXT),
        ("11216", Intent.TEXT),  # a ZIP where a number was asked: read as a place
        ("STOP", Intent.STOP),  # keywords work from any state
        ("help", Intent.HELP),
        ("2 please call me", Intent.TEXT),
        ("need groceries 11216", Intent.NEED),
    ],
)
def test_replies_that_are_not_choices(
    body: str, intent: Intent, keywords: Keywords, categories: Any
) -> None:
    command = parse(body, keywords=keywords, categories=categories, choices=CATEGORY_KEYS)
    assert command.intent is intent
    assert command.choice is None


def test_choices_need_not_be_categories(keywords: Keywords) -> None:
    choices = ["4821", "5310"]
    assert parse("2", keywords=keywords, choices=choices).choice == "5310"
    assert parse("5310", keywords=keywords, choices=choices).choice == "5310"
    assert parse("2", keywords=keywords).intent is Intent.TEXT


# Typos: one edit, same first letter, one meaning


def tables(**intents: dict[str, list[str]]) -> Keywords:
    return Keywords.from_tables({"en": {"intents": intents}})


def test_a_word_one_edit_from_two_different_keywords_is_not_guessed() -> None:
    kw = tables(yes={"alone": ["abcd"]}, no={"alone": ["abce"]})
    assert parse("abcf", keywords=kw).intent is Intent.TEXT  # one edit from both
    assert parse("abdc", keywords=kw).intent is Intent.YES  # a swap, only near "abcd"
    assert parse("abcee", keywords=kw).intent is Intent.NO


def test_a_word_close_to_two_keywords_of_one_intent_is_read() -> None:
    kw = tables(status={"alone": ["status", "stats"]}, start={"alone": ["start"]})
    assert parse("statsu", keywords=kw).intent is Intent.STATUS
    assert parse("stat", keywords=kw).intent is Intent.TEXT  # START or STATS?


@pytest.mark.parametrize(
    ("body", "intent"),
    [
        ("yse", Intent.YES),
        ("stpo", Intent.STOP),
        ("sotp", Intent.STOP),
        ("hlep", Intent.HELP),
        ("cancle", Intent.CANCEL),
        ("reusme", Intent.RESUME),
        ("pasue", Intent.PAUSE),
        ("necesto comida", Intent.NEED),
        ("ofrezo comida", Intent.OFFER),
        ("lsito", Intent.DONE),
        # real words one edit from a keyword are left alone
        ("shop", Intent.TEXT),
        ("step", Intent.TEXT),
        ("yet", Intent.TEXT),
        ("gone", Intent.TEXT),  # other first letter
        ("top", Intent.TEXT),
        ("bone", Intent.TEXT),
        # too short to guess
        ("ys", Intent.TEXT),
        ("nx", Intent.TEXT),
    ],
)
def test_typo_tolerance(body: str, intent: Intent, keywords: Keywords) -> None:
    command = parse(body, keywords=keywords)
    assert command.intent is intent
    if intent is not Intent.TEXT:
        assert command.via in ("typo", "alone", "lead", "stop-rule")


def test_typos_count_only_as_the_first_word(keywords: Keywords) -> None:
    assert parse("my neighbour said yse", keywords=keywords).intent is Intent.TEXT


@pytest.mark.parametrize(
    ("a", "b", "close"),
    [
        ("yse", "yes", True),
        ("yes", "yes", False),
        ("ye", "yes", True),
        ("yess", "yes", True),
        ("yxs", "yes", True),
        ("sye", "yes", False),
        ("", "a", True),
        ("abc", "cba", False),
        ("stpo", "stop", True),
        ("stop", "stomp", True),
        ("stop", "sto", True),
        ("stop", "st", False),
    ],
)
def test_within_one_edit(a: str, b: str, close: bool) -> None:
    assert within_one_edit(a, b) is close
    assert within_one_edit(b, a) is close


# Look-alikes and normalisation


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("ЅТОР", "stop"),  # Cyrillic
        ("ΥΕΣ", "yeσ"),  # a Greek sigma is not an S
        ("ΝΟ", "no"),  # Greek
        ("ＳＴＯＰ", "stop"),  # fullwidth (NFKC)
        ("𝐒𝐓𝐎𝐏", "stop"),  # mathematical bold (NFKC)
        ("Ｓí", "si"),
        ("NIÑOS", "ninos"),
        ("don’t", "dont"),
        ("ᴅᴏɴᴇ", "done"),  # small capitals
        ("st0p", "stop"),
        ("4821", "4821"),
        ("K7Q2", "k7q2"),
    ],
)
def test_fold(written: str, key: str) -> None:
    from sms.text import prepare

    assert fold(prepare(written)) == key


def test_clean_keeps_what_a_person_wrote() -> None:
    assert clean(" need\x00 food\r\n\t11216 ") == "need food 11216"
    assert clean("שלום עולם") == "שלום עולם"
    assert clean("\x07\x1b") == ""


def test_tokens_split_glued_numbers_and_keep_emoji() -> None:
    keys = [t.key for t in tokenize("YES4821!! 5km, 2.5mi don't 👍🏽 #3")]
    assert keys == ["yes", "4821", "5", "km", "2.5", "mi", "dont", "👍", "3"]


# The command carries how it was read


def test_command_fields(keywords: Keywords, categories: Any) -> None:
    command = parse("  OFREZCO comida\x00 5 km Bushwick ", keywords=keywords, categories=categories)
    assert command == Command(
        Intent.OFFER,
        "OFREZCO comida 5 km Bushwick",
        language="es",
        categories=("groceries",),
        location_text="Bushwick",
        radius_km=5.0,
        keyword="ofrezco",
        via="lead",
    )
    with pytest.raises(dataclasses.FrozenInstanceError):
        command.intent = Intent.NEED  # type: ignore[misc]


@pytest.mark.parametrize(
    ("body", "via"),
    [
        ("yes", "alone"),
        ("need food 11216", "lead"),
        ("hi my name is Ana and I need food", "anywhere"),
        ("yse", "typo"),
        ("no need anymore", "negation"),
        ("stop texting me", "stop-rule"),
        ("hello there", "none"),
    ],
)
def test_via_says_how_strong_the_match_is(body: str, via: str, keywords: Keywords) -> None:
    assert parse(body, keywords=keywords).via == via


def test_categories_are_an_argument(keywords: Keywords) -> None:
    pets = {"pets": ["dog walking", "dog", "perro", "cat"]}
    command = parse("need dog walking 11216", keywords=keywords, categories=pets)
    assert (command.categories, command.location_text) == (("pets",), "11216")
    assert parse("need groceries 11216", keywords=keywords).categories == ()
    assert parse("need groceries 11216", keywords=keywords, categories=pets).categories == ()


def test_coordinates_out_of_range_are_not_a_place(keywords: Keywords, categories: Any) -> None:
    def place(body: str) -> str | None:
        return parse(body, keywords=keywords, categories=categories).location_text

    assert place("need food 95.1,-200.5") is None
    assert place("need food 40.68,-73.94") == "40.68,-73.94"


def test_negated_urgency(keywords: Keywords) -> None:
    assert parse("need meds, urgent", keywords=keywords).urgent
    assert not parse("need meds, not urgent", keywords=keywords).urgent
    assert not parse("necesito comida, no es urgente", keywords=keywords).urgent


# The tables are data: every keyword reads as its intent, a third language is one file


def keyword_rows() -> list[Any]:
    rows = []
    for path in sorted((CONFIG_DIR / "keywords").glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        for intent, kinds in data["intents"].items():
            for phrase in kinds.get("alone", []):
                rows.append(
                    pytest.param(phrase, Intent(intent), id=f"{path.stem}:{intent}:{phrase}")
                )
    return rows


@pytest.mark.parametrize(("phrase", "intent"), keyword_rows())
def test_every_alone_keyword_reads_as_its_intent(
    phrase: str, intent: Intent, keywords: Keywords
) -> None:
    assert parse(phrase, keywords=keywords).intent is intent


def test_every_command_has_keywords_in_every_language(keywords: Keywords) -> None:
    for path in sorted((CONFIG_DIR / "keywords").glob("*.toml")):
        with path.open("rb") as f:
            data = tomllib.load(f)
        commands = {i.value for i in Intent} - {"choice", "text"}
        assert set(data["intents"]) == commands, path.name
    shipped = tuple(sorted(p.stem for p in (CONFIG_DIR / "keywords").glob("*.toml")))
    assert keywords.languages == shipped and len(shipped) >= 8


FRENCH = """
[intents.need]
lead = ["besoin", "j'ai besoin", "il me faut"]
[intents.yes]
alone = ["oui", "d'accord"]
lead = ["oui"]
[intents.no]
alone = ["non", "non merci"]
lead = ["non"]
[intents.stop]
alone = ["arret", "arrete"]
lead = ["arret", "arrete"]
anywhere = ["ne m'ecrivez plus"]
[intents.help]
alone = ["aide"]
[words]
fillers = ["merci", "svp", "s'il vous plait", "bonjour"]
greetings = ["bonjour", "salut"]
negators = ["pas", "plus", "ne"]
near = ["pres de", "a cote de", "vers"]
not_place = ["je", "moi", "pour", "ma", "mon"]
articles = ["le", "la", "les", "l"]
km_units = ["km"]
"""


@pytest.fixture
def with_french(tmp_path: Path) -> Path:
    folder = tmp_path / "keywords"
    folder.mkdir()
    for path in (CONFIG_DIR / "keywords").glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    (folder / "fr.toml").write_text(FRENCH, encoding="utf-8")
    return tmp_path


@pytest.mark.parametrize(
    ("body", "intent", "code", "language"),
    [
        ("J'ai besoin de courses 75011", Intent.NEED, None, "fr"),
        ("OUI 4821", Intent.YES, "4821", "fr"),
        ("non merci", Intent.NO, None, "fr"),
        ("ARRÊTE", Intent.STOP, None, "fr"),
        ("Bonjour, ne m'écrivez plus", Intent.STOP, None, "fr"),
        ("aide", Intent.HELP, None, "fr"),
        ("yes 4821", Intent.YES, "4821", "en"),
        ("necesito comida", Intent.NEED, None, "es"),
    ],
)
def test_a_third_language_is_one_data_file(
    with_french: Path, body: str, intent: Intent, code: str | None, language: str
) -> None:
    keywords = Keywords.load(with_french)
    assert "fr" in keywords.languages
    command = parse(body, keywords=keywords)
    assert (command.intent, command.code, command.language) == (intent, code, language)


def test_french_place_words(with_french: Path) -> None:
    command = parse(
        "il me faut des courses pres de la Bastille", keywords=Keywords.load(with_french)
    )
    assert (command.intent, command.location_text) == (Intent.NEED, "Bastille")


def test_a_word_of_two_languages_means_what_it_means_in_the_senders() -> None:
    """ "pause" is a break in English and, here, "done" in a made-up language: the person's
    stored language decides; a word with one meaning in both takes their language too."""
    keywords = Keywords.from_tables(
        {
            "en": {"intents": {"pause": {"alone": ["pause"]}, "yes": {"alone": ["ok"]}}},
            "xx": {"intents": {"done": {"alone": ["pause"]}, "yes": {"alone": ["ok"]}}},
        }
    )
    english = parse("pause", keywords=keywords, language="en")
    other = parse("PAUSE!", keywords=keywords, language="xx")
    assert (english.intent, english.language) == (Intent.PAUSE, "en")
    assert (other.intent, other.language) == (Intent.DONE, "xx")
    assert parse("pause", keywords=keywords).intent is Intent.PAUSE  # first by code
    assert parse("ok", keywords=keywords, language="xx").language == "xx"
    assert parse("ok", keywords=keywords).language is None
    # A third language's sender reads the word in the first language that has it.
    assert parse("pause", keywords=keywords, language="zz").intent is Intent.PAUSE


def test_loading_only_some_languages() -> None:
    assert Keywords.load(CONFIG_DIR, languages=["es"]).languages == ("es",)


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({}, "no keyword tables"),
        ({"xx": {"intents": {"yes": {"alone": ["si"]}, "no": {"alone": ["si"]}}}}, "both"),
        ({"en": {"intents": {"maybe": {"alone": ["perhaps"]}}}}, "unknown intent 'maybe'"),
        ({"en": {"intents": {"text": {"alone": ["hi"]}}}}, "not a keyword table"),
        ({"en": {"intents": {"yes": {"sometimes": ["y"]}}}}, "is not one of"),
        ({"en": {"intents": {"yes": {"alone": "yes"}}}}, "list of strings"),
        ({"en": {"intents": {"yes": {"alone": ["!!"]}}}}, "has no words"),
        ({"en": {"words": {"filler": ["um"]}}}, "unknown word list"),
        ({"en": {"phrases": {}}}, "unknown sections"),
        ({"English": {"intents": {}}}, "not a language code"),
    ],
)
def test_bad_tables_are_refused_with_a_clear_error(tables: dict[str, Any], message: str) -> None:
    with pytest.raises(KeywordsError, match=message):
        Keywords.from_tables(tables)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeywordsError, match="no keyword tables in"):
        Keywords.load(tmp_path)


def test_broken_toml_names_the_file(tmp_path: Path) -> None:
    (tmp_path / "keywords").mkdir()
    (tmp_path / "keywords" / "en.toml").write_text("[intents.yes\n", encoding="utf-8")
    with pytest.raises(KeywordsError, match=r"en\.toml"):
        Keywords.load(tmp_path)


# Robustness: any body at all gives a command, never an exception


@settings(max_examples=300, deadline=None)
@given(body=st.text(max_size=300))
def test_any_text_parses(body: str, keywords: Keywords, categories: Any) -> None:
    command = parse(body, keywords=keywords, categories=categories, choices=CATEGORY_KEYS)
    assert isinstance(command.intent, Intent)
    assert command.text == clean(body)


def test_long_and_hostile_bodies(keywords: Keywords, categories: Any) -> None:
    bodies = [
        "need food " * 160,
        "\x00" * 50 + "STOP",
        "\u202eSTOP\u202c",  # right-to-left override around the word
        "🙂" * 400,
        "1" * 1600,
    ]
    intents = [parse(b, keywords=keywords, categories=categories).intent for b in bodies]
    assert intents == [Intent.NEED, Intent.STOP, Intent.STOP, Intent.TEXT, Intent.TEXT]
