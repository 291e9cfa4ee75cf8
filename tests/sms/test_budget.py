"""Budgets per language and encoding, and what gives way over budget (sms.budget): no app,
no database."""

from __future__ import annotations

from pathlib import Path

import pytest

from sms.budget import Rule, Rules, fit, plain
from sms.catalog import Catalogue, CatalogueError
from sms.segments import segments

CONFIG_DIR = Path(__file__).resolve().parents[2] / "config"
TASK = "Task {code}: {name} at {place}. {details} DONE {code} when finished."


def _catalogue(**languages: dict) -> Catalogue:
    return Catalogue.from_tables({"en": {"task": {"text": TASK, "segments": 1}}, **languages})


def test_a_language_without_budgets_takes_the_reference_ones_for_each_encoding() -> None:
    cat = _catalogue(ru={"task": {"text": "Задача {code}: {name}, {place}. {details} {code}"}})
    ru = cat.template("task", "ru")
    assert (ru.budget("GSM-7"), ru.budget("UCS-2")) == (1, 2)


def test_a_language_in_a_ucs2_script_counts_its_own_budget_in_ucs2() -> None:
    cat = _catalogue(
        zh={
            "task": {
                "text": "任务 {code}：{name}，{place}。{details} 完成后回复 DONE {code}",
                "segments": 2,
            }
        }
    )
    assert cat.budget("task", "zh", "UCS-2") == 2
    # A GSM-7 text a value turns UCS-2: one segment more, unless the catalogue says.
    assert cat.budget("task", "en", "UCS-2") == 2
    given = Catalogue.from_tables(
        {"en": {"task": {"text": TASK, "segments": 1, "segments_ucs2": 3}}}
    )
    assert given.budget("task", "en", "UCS-2") == 3


@pytest.mark.parametrize("bad", [0, 5, True, "2"])
def test_a_ucs2_budget_is_a_whole_number_of_segments(bad) -> None:
    with pytest.raises(CatalogueError, match="segments_ucs2"):
        Catalogue.from_tables({"en": {"hi": {"text": "Hi", "segments": 1, "segments_ucs2": bad}}})


def test_the_reference_language_must_give_every_budget() -> None:
    with pytest.raises(CatalogueError, match="needs its segments"):
        Catalogue.from_tables({"en": {"hi": {"text": "Hi"}}})


def test_over_budget_the_named_values_give_way_in_order_with_a_link() -> None:
    template = _catalogue().template("task")
    values = {
        "code": "4821",
        "name": "Rosa",
        "place": "123 Halsey St, Apt 4B",
        "details": "Milk, eggs, rice, bread, bananas and yoghurt; she pays you back. " * 3,
    }
    fitted = fit(template, values, Rule(("details", "name"), "details"), link="https://x.org/t/1")
    assert fitted.cost.count == 1 and fitted.cut == ("details",) and not fitted.over
    assert "... https://x.org/t/1 DONE 4821" in fitted.text and "Rosa" in fitted.text
    assert fitted.text.startswith("Task 4821: Rosa at 123 Halsey St, Apt 4B. Milk, eggs")


def test_in_ucs2_the_ellipsis_is_one_character_and_the_code_is_never_cut() -> None:
    template = _catalogue().template("task")
    values = {"code": "4821", "name": "Mónica", "place": "Fulton St", "details": "pan " * 80}
    fitted = fit(template, values, Rule(("details",)))
    assert fitted.cost.encoding == "UCS-2" and fitted.cost.count <= 2
    assert "pan…" in fitted.text and fitted.text.count("4821") == 2


def test_a_text_that_cannot_fit_is_sent_as_short_as_it_got_and_says_so() -> None:
    template = _catalogue().template("task")
    values = {"code": "4821", "name": "R" * 200, "place": "x", "details": "y"}
    fitted = fit(template, values, Rule(("details",)))
    assert fitted.over and fitted.cost.count == segments(fitted.text).count


def test_typographic_punctuation_is_written_the_gsm7_way() -> None:
    assert plain("I\u2019m \u201cnear\u201d \u2013 5\u00a0min\u2026") == 'I\'m "near" - 5 min...'
    assert segments(plain("I\u2019m outside")).encoding == "GSM-7"


def test_rules_name_real_messages_and_their_placeholders() -> None:
    cat = _catalogue()
    Rules.from_table({"task": {"cut": ["details"], "link": "details"}}).check(cat.templates())
    with pytest.raises(CatalogueError, match="unknown values"):
        Rules.from_table({"task": {"cut": ["detials"]}}).check(cat.templates())
    with pytest.raises(CatalogueError, match="not a message"):
        Rules.from_table({"nope": {"cut": []}}).check(cat.templates())
    with pytest.raises(CatalogueError, match="link must be one of"):
        Rules.from_table({"task": {"cut": ["name"], "link": "details"}})


def test_the_shipped_rules_fit_the_shipped_catalogues() -> None:
    Rules.load(CONFIG_DIR).check(Catalogue.load(CONFIG_DIR).templates())
