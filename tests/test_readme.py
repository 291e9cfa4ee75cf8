"""README.md stays true: every setting documented, the two commands shown."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text()
SETTINGS = tomllib.loads((ROOT / "config" / "defaults.toml").read_text())


@pytest.mark.parametrize("name", sorted(SETTINGS))
def test_every_setting_is_in_the_readme(name: str) -> None:
    assert f"`{name}`" in README, name


@pytest.mark.parametrize("command", ["make run", "make test"])
def test_the_two_commands_are_shown(command: str) -> None:
    assert f"\n{command}\n" in README
