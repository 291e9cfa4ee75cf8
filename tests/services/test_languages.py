"""A network's languages from config/languages/<lang>.toml: each one's name in itself, its
script's direction and its locale; a missing or malformed file is refused naming it."""

from __future__ import annotations

from pathlib import Path

import pytest

from mutualaid.services.languages import load_languages

CONFIG = Path(__file__).resolve().parents[2] / "config"


def test_the_shipped_languages_name_themselves() -> None:
    languages = load_languages(CONFIG, ["en", "es"])
    assert list(languages) == ["en", "es"]
    assert languages["es"].name == "Español"
    assert {lang.direction for lang in languages.values()} == {"ltr"}


def test_a_right_to_left_language_says_so(tmp_path: Path) -> None:
    (tmp_path / "languages").mkdir()
    (tmp_path / "languages" / "ar.toml").write_text('name = "العربية"\ndirection = "rtl"\n')
    assert load_languages(tmp_path, ["ar"])["ar"].direction == "rtl"


@pytest.mark.parametrize(
    ("code", "content", "complaint"),
    [
        ("fr", None, "fr.toml"),
        ("fr", 'direction = "ltr"\n', "needs name"),
        ("fr", 'name = "Français"\ndirection = "up"\n', '"ltr" or "rtl"'),
        ("fr", "name = \n", "fr.toml"),
        ("../x", None, "not a language code"),
    ],
)
def test_a_bad_language_file_is_refused_naming_it(
    tmp_path: Path, code: str, content: str | None, complaint: str
) -> None:
    (tmp_path / "languages").mkdir()
    if content is not None:
        (tmp_path / "languages" / f"{code}.toml").write_text(content)
    with pytest.raises(ValueError, match=None) as refused:
        load_languages(tmp_path, [code])
    assert complaint in str(refused.value)
