"""mutualaid.keys: the launcher and every command find the instance's keys the same way."""

from __future__ import annotations

import stat
from pathlib import Path

from mutualaid.keys import command_folder, use_instance_keys
from mutualaid.models.crypto import parse_key


def test_the_launcher_writes_each_key_once_and_reads_it_ever_after(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    first: dict[str, str] = {}
    use_instance_keys(first, folder=folder, generate=True)
    assert len(first["MUTUALAID_SECRET_KEY"]) >= 48
    assert len(parse_key(first["MUTUALAID_DATA_KEY"])) == 64
    for name in ("secret_key", "data_key"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600
    again: dict[str, str] = {}
    use_instance_keys(again, folder=folder, generate=True)
    assert again == first


def test_a_command_reads_the_files_and_never_makes_a_key(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    nothing: dict[str, str] = {}
    use_instance_keys(nothing, folder=folder)
    assert nothing == {} and not folder.exists()
    made: dict[str, str] = {}
    use_instance_keys(made, folder=folder, generate=True)
    read: dict[str, str] = {}
    use_instance_keys(read, folder=folder)
    assert read == made


def test_the_environment_comes_first(tmp_path: Path) -> None:
    folder = tmp_path / "instance"
    use_instance_keys({}, folder=folder, generate=True)
    plain = {"SECRET_KEY": "from-the-environment-0123456789"}
    use_instance_keys(plain, folder=folder)
    assert "MUTUALAID_SECRET_KEY" not in plain  # SECRET_KEY is read under its plain name
    assert plain["MUTUALAID_DATA_KEY"] == (folder / "data_key").read_text().strip()
    prefixed = {"MUTUALAID_SECRET_KEY": "s" * 40, "MUTUALAID_DATA_KEY": "d"}
    use_instance_keys(prefixed, folder=folder)
    assert prefixed == {"MUTUALAID_SECRET_KEY": "s" * 40, "MUTUALAID_DATA_KEY": "d"}


def test_commands_look_in_the_current_folder_first(tmp_path: Path) -> None:
    (tmp_path / "instance").mkdir()
    assert command_folder(tmp_path) == tmp_path / "instance"
    # Elsewhere: the app's instance folder, where the default SQLite database lives.
    assert command_folder(tmp_path / "nowhere").name == "instance"
