"""Input a service refuses, said so that the boundary can tell the person in their language."""

from __future__ import annotations

from typing import Any


class Refused(ValueError):
    """What was asked cannot be done as given. ``key`` names the sentence in the web
    labels (web/labels.py, group ``dash.error``, translated by gettext), ``values`` fill it in; the
    exception's own text is the English sentence, for logs and the CLI."""

    def __init__(self, key: str, message: str, **values: Any) -> None:
        super().__init__(message)
        self.key = key
        self.values = values


class Conflict(Refused):
    """What was asked does not fit the record's state now (it is closed, or changed
    meanwhile): nothing was changed, and asking again later may work."""
