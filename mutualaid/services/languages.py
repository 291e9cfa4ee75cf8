"""The languages a network speaks: each one's name, script direction and locale, read from
config/languages/<lang>.toml for the languages in the LANGUAGES setting."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

_CODE = re.compile(r"^[a-z]{2,3}$")


@dataclass(frozen=True)
class Language:
    code: str
    name: str
    direction: str
    locale: str


def language_file(config_dir: Path, code: str) -> Path:
    return Path(config_dir) / "languages" / f"{code}.toml"


def load_languages(config_dir: Path, codes: list[str]) -> dict[str, Language]:
    """{code: Language} in the order given; a missing or malformed file raises ValueError
    naming it."""
    languages = {}
    for code in codes:
        path = language_file(config_dir, code)
        if not _CODE.match(code):
            raise ValueError(f"{code!r} is not a language code (two or three letters)")
        try:
            with path.open("rb") as f:
                data = tomllib.load(f)
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: {exc}") from exc
        name, direction = data.get("name"), data.get("direction", "ltr")
        if not isinstance(name, str) or not name:
            raise ValueError(f"{path}: needs name, the language's name in itself")
        if direction not in ("ltr", "rtl"):
            raise ValueError(f'{path}: direction is "ltr" or "rtl"')
        languages[code] = Language(code, name, direction, str(data.get("locale", code)))
    return languages
