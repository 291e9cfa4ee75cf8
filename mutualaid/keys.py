"""The instance's keys: SECRET_KEY and DATA_KEY from the environment, else from the files
`make run` keeps in instance/ (secret_key, data_key), found the same way by the launcher
and by every `mutualaid` command, so the commands of the README work in a second shell.

Only the launcher writes those files (once, mode 0600); a command reads them and never
makes a key of its own: a new DATA_KEY would not read what the old one encrypted.
"""

from __future__ import annotations

import os
from collections.abc import Callable, MutableMapping
from pathlib import Path

INSTANCE = Path("instance")
SECRET_KEY_FILE = "secret_key"
DATA_KEY_FILE = "data_key"


def use_instance_keys(
    environ: MutableMapping[str, str] | None = None,
    *,
    folder: Path = INSTANCE,
    generate: bool = False,
) -> None:
    """Set MUTUALAID_SECRET_KEY and MUTUALAID_DATA_KEY in ``environ`` (os.environ) from
    ``folder``'s key files when the environment has neither the setting nor its plain
    name. With ``generate`` (the launcher), a missing file is first written with a new
    random key; without it, a missing file leaves the setting unset (start-up then says
    which one is missing)."""
    environ = os.environ if environ is None else environ
    has_secret = environ.get("SECRET_KEY") or environ.get("MUTUALAID_SECRET_KEY")
    if not has_secret and (
        value := _kept(folder / SECRET_KEY_FILE, _new_secret_key if generate else None)
    ):
        environ["MUTUALAID_SECRET_KEY"] = value
    if not environ.get("MUTUALAID_DATA_KEY"):
        from mutualaid.models.crypto import generate_key

        if value := _kept(folder / DATA_KEY_FILE, generate_key if generate else None):
            environ["MUTUALAID_DATA_KEY"] = value


def command_folder(cwd: Path | None = None) -> Path:
    """Where a `mutualaid` command looks for the key files: ./instance when there is one
    (the folder `make run` was started in), else the app's own instance folder, where
    the default SQLite database lives (the same folder for a clone set up by `make run`)."""
    here = (cwd or Path.cwd()) / INSTANCE
    if here.is_dir():
        return here
    from flask import Flask

    return Path(Flask("mutualaid", instance_relative_config=True).instance_path)


def _new_secret_key() -> str:
    import secrets

    return secrets.token_urlsafe(48)


def _kept(path: Path, generate: Callable[[], str] | None) -> str:
    """The key in ``path``; written first (mode 0600) with ``generate()`` when missing
    and ``generate`` is given; "" when missing otherwise."""
    if not path.exists():
        if generate is None:
            return ""
        path.parent.mkdir(exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:  # another launcher got there first: use its key
            pass
        else:
            with os.fdopen(fd, "w") as f:
                f.write(generate())
    return path.read_text().strip()
