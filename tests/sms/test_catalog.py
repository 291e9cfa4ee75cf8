"""Message catalogues: every template in every language fits its segment budget, exactly counted."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from sms.catalog import Catalogue, CatalogueError, Template, numbered
from sms.parse import Intent, Keywords, parse
from sms.phones import find_numbers
from sms.segments import segments

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"

# What the service sends now and next; a language file must have all of them.
REQUIRED_KEYS = {
    "help", "unknown", "rate_limited", "human_ack", "stopped", "started",
    "need_ask_category", "need_ask_location", "need_confirmed", "need_updated",
    "need_no_location_stored", "cancelled_requester", "still_looking", "status_requester",
    "offer_ask_categories", "offer_ask_location", "offer_confirmed", "paused", "resumed",
    "paused_for_expiries", "status_volunteer", "nothing_pending", "which_code", "proposal",
    "proposal_taken", "accepted_volunteer", "accepted_requester", "declined_ack",
    "expired_volunteer", "relay_from_volunteer", "relay_from_requester", "done_ack",
    "followup_question", "followup_thanks", "cancelled_volunteer",
}  # fmt: skip


def all_templates() -> list[Any]:
    catalogue = Catalogue.load(CONFIG_DIR)
    return [pytest.param(t, id=f"{t.language}:{t.key}") for t in catalogue.templates()]


@pytest.mark.parametrize("template", all_templates())
def test_every_template_fits_its_budget(template: Template) -> None:
    text = template.render_example()
    cost = segments(text)
    assert cost.count <= template.segments, (
        f"{template.language}:{template.key} costs {cost.count} segments "
        f"({cost.encoding}, {cost.units} units), budget {template.segments}: {text!r}"
    )
    assert 1 <= template.segments <= 2, "a message may cost at most two segments"


@pytest.mark.parametrize("template", all_templates())
def test_examples_are_realistic_and_complete(template: Template) -> None:
    assert set(template.example) == template.placeholders
    assert all(str(v).strip() for v in template.example.values())
    assert "{" not in template.render_example()


@pytest.mark.parametrize("template", all_templates())
def test_no_phone_number_in_any_message(template: Template) -> None:
    assert not re.search(r"\d{7,}|\d{3}[-. ]\d{3}[-. ]\d{4}", template.text)
    assert find_numbers(template.render_example(), region="US") == []
    assert "phone" not in template.placeholders and "number" not in template.placeholders


@pytest.mark.parametrize("template", all_templates())
def test_no_typographic_punctuation(template: Template) -> None:
    # One curly quote or long dash turns a whole message into UCS-2.
    assert not set(template.text) & set("‘’“”–—…«»"), template.text


def advertised_commands() -> list[Any]:
    """Each (template, word) where a message tells people to text a command."""
    pairs = []
    for t in Catalogue.load(CONFIG_DIR).templates():
        words = re.findall(r"\b[A-Z]{2,}\b", re.sub(r"\{\w+\}", "", t.text))
        for word in sorted(set(words) - {"ZIP", "SMS", "OK"}):
            pairs.append(pytest.param(t, word, id=f"{t.language}:{t.key}:{word}"))
    return pairs


ADVERTISED = advertised_commands()


def test_every_languages_help_advertises_commands() -> None:
    """So the test below has something to check in every language, help first."""
    languages = Catalogue.load(CONFIG_DIR).languages
    helped = {p.values[0].language for p in ADVERTISED if p.values[0].key == "help"}
    assert languages and helped == set(languages)


@pytest.mark.parametrize(("template", "word"), ADVERTISED)
def test_advertised_commands_are_understood(
    template: Template, word: str, keywords: Keywords
) -> None:
    """Every command a message tells people to text reads back as a command in that language."""
    command = parse(word, keywords=keywords)
    assert command.intent is not Intent.TEXT, f"{template.language}:{template.key} says {word}"
    # START is Twilio's own opt-in word, so the Spanish opt-out mentions it too.
    if word != "START":
        assert command.language in (None, template.language), word


def test_the_proposal_never_carries_the_requesters_contact(catalogue: Catalogue) -> None:
    for language in catalogue.languages:
        placeholders = catalogue.template("proposal", language).placeholders
        assert placeholders == {"category", "distance", "area", "when", "code", "link"}


def test_every_language_has_every_key(catalogue: Catalogue) -> None:
    shipped = tuple(sorted(p.stem for p in (CONFIG_DIR / "languages").glob("*.toml")))
    assert catalogue.languages == shipped and len(shipped) >= 8
    keys = catalogue.keys()
    assert set(keys) >= REQUIRED_KEYS
    for language in catalogue.languages:
        for key in keys:
            assert catalogue.template(key, language).language == language


def test_render_in_the_persons_language_with_english_fallback(catalogue: Catalogue) -> None:
    values = {"ref": "K7Q2", "category": "Comestibles"}
    spanish = catalogue.render("need_confirmed", "es", **values)
    assert spanish.startswith("Gracias. Recibimos su pedido de Comestibles (ref K7Q2).")
    assert catalogue.render("need_confirmed", "es-MX", **values) == spanish
    assert catalogue.render("need_confirmed", "ES_us", **values) == spanish
    english = catalogue.render("need_confirmed", "en", **values)
    assert catalogue.render("need_confirmed", "fr", **values) == english
    assert catalogue.render("need_confirmed", None, **values) == english
    assert catalogue.render("need_confirmed", "", **values) == english


def test_budget(catalogue: Catalogue) -> None:
    assert catalogue.budget("proposal") == 2
    assert catalogue.budget("declined_ack", "es") == 1
    assert catalogue.budget("help", "fr") == catalogue.budget("help", "en")


@pytest.mark.parametrize(
    ("key", "values", "message"),
    [
        ("no_such_message", {}, "no message 'no_such_message'"),
        ("need_confirmed", {"ref": "K7Q2"}, "takes category, ref: missing category"),
        (
            "need_confirmed",
            {"ref": "K7Q2", "category": "Groceries", "phone": "+1"},
            "unexpected phone",
        ),
        ("declined_ack", {"name": "Ana"}, "takes no values: unexpected name"),
    ],
)
def test_render_errors_are_clear(
    catalogue: Catalogue, key: str, values: dict[str, str], message: str
) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        catalogue.render(key, "es", **values)


def test_values_named_like_the_arguments(catalogue: Catalogue) -> None:
    tables = {"en": {"hi": {"text": "{key} in {language}", "segments": 1}}}
    assert Catalogue.from_tables(tables).render("hi", "en", key="k", language="l") == "k in l"


def entry(text: str = "Hi {name}", **extra: Any) -> dict[str, Any]:
    return {"text": text, "segments": 1, **extra}


@pytest.mark.parametrize(
    ("tables", "message"),
    [
        ({"es": {"hi": entry()}}, "no 'en' catalogue"),
        ({"en": {"hi": entry(), "bye": entry()}, "es": {"hi": entry()}}, "missing ['bye']"),
        ({"en": {"hi": entry()}, "es": {"hi": entry(), "bye": entry()}}, "extra ['bye']"),
        ({"en": {"hi": entry()}, "es": {"hi": entry("Hola {nombre}")}}, "es uses ['nombre']"),
        ({"en": {"hi": {"text": "Hi", "segments": 0}}}, "segments must be"),
        ({"en": {"hi": {"text": "Hi", "segments": True}}}, "segments must be"),
        ({"en": {"hi": {"text": "", "segments": 1}}}, "text must be"),
        ({"en": {"hi": entry(colour="red")}}, "unknown fields ['colour']"),
        ({"en": {"hi": entry("Hi {0}")}}, "must be a plain name"),
        ({"en": {"hi": entry("Hi {name!r}")}}, "must be a plain name"),
        ({"en": {"hi": entry("Hi {name:>9}")}}, "must be a plain name"),
        ({"en": {"hi": entry("Hi {name")}}, "bad template"),
        ({"en": {"Hi": entry()}}, "lower_snake_case"),
        ({"en": {"hi": entry(example=["Ana"])}}, "example must be"),
        ({"english": {"hi": entry()}}, "not a language code"),
    ],
)
def test_bad_catalogues_are_refused(tables: dict[str, Any], message: str) -> None:
    with pytest.raises(CatalogueError, match=re.escape(message)):
        Catalogue.from_tables(tables)


def test_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CatalogueError, match="no message catalogues in"):
        Catalogue.load(tmp_path)


def test_a_third_language_is_one_file(tmp_path: Path) -> None:
    folder = tmp_path / "messages"
    folder.mkdir()
    source = CONFIG_DIR / "messages"
    for path in source.glob("*.toml"):
        (folder / path.name).write_bytes(path.read_bytes())
    english = Catalogue.load(tmp_path)
    lines = []
    keys = english.keys()
    for key in keys:
        template = english.template(key, "en")
        placeholders = " ".join(f"{{{p}}}" for p in sorted(template.placeholders))
        lines += [f"[{key}]", f'text = "FR {placeholders}"', "segments = 1", ""]
    (folder / "fr.toml").write_text("\n".join(lines), encoding="utf-8")
    catalogue = Catalogue.load(tmp_path)
    assert "fr" in catalogue.languages
    assert catalogue.render("done_ack", "fr-CA", code="4821") == "FR 4821"


def test_numbered_options() -> None:
    assert numbered(["Groceries", "Hot meals", "Rides"]) == "1 Groceries, 2 Hot meals, 3 Rides"
    assert numbered([]) == ""
