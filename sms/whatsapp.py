"""WhatsApp through Twilio: its addresses (``whatsapp:+E164``), its 24-hour window, and
the approved template messages (Twilio Content SIDs) a business must use outside it.

WhatsApp lets a business send free-form text only within 24 hours of the person's last
message; outside that window, and for any message the business starts (a proposal), only
a template Meta has approved, sent by its Content SID with its variables. Which of our
messages has such a template, in which language, with which of its values as variables,
is data: ``config/whatsapp.toml``.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sms.catalog import Catalogue, CatalogueError

__all__ = [
    "OUTSIDE_WINDOW_ERROR",
    "PREFIX",
    "WINDOW",
    "Approved",
    "WhatsAppError",
    "WhatsAppTemplates",
    "address",
    "split_address",
    "within_window",
]

PREFIX = "whatsapp:"
# Twilio's error for a free-form WhatsApp message outside the 24 hours (reported by status
# callback after the API took it).
OUTSIDE_WINDOW_ERROR = 63016
# Free-form messages are allowed this long after the person's last message.
WINDOW = dt.timedelta(hours=24)
_CONTENT_SID = re.compile(r"^HX[0-9a-fA-F]{32}$")


class WhatsAppError(ValueError):
    """config/whatsapp.toml is malformed."""


def split_address(raw: str) -> tuple[str, str]:
    """The channel of a Twilio ``From``/``To`` and the rest: ``"whatsapp:+1718…"`` is
    ("whatsapp", "+1718…"), anything else ("sms", as given).

    >>> split_address("whatsapp:+17185550101"), split_address("+17185550101")
    (('whatsapp', '+17185550101'), ('sms', '+17185550101'))
    """
    text = raw.strip()
    if text[: len(PREFIX)].lower() == PREFIX:
        return "whatsapp", text[len(PREFIX) :].strip()
    return "sms", text


def address(channel: str, phone: str) -> str:
    """Where Twilio sends a text to ``phone`` on ``channel``.

    >>> address("whatsapp", "+17185550101"), address("sms", "+17185550101")
    ('whatsapp:+17185550101', '+17185550101')
    """
    return f"{PREFIX}{phone}" if channel == "whatsapp" else phone


def within_window(last_inbound: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a free-form WhatsApp message may be sent at ``now`` after the person's
    last WhatsApp message at ``last_inbound``."""
    return last_inbound is not None and now - last_inbound < WINDOW


@dataclass(frozen=True, slots=True)
class Approved:
    """One approved template: its Content SID and our values as its numbered variables."""

    key: str
    language: str
    content_sid: str
    variables: tuple[str, ...]

    def content_variables(self, values: Mapping[str, object]) -> str:
        """Twilio's ContentVariables: ``{"1": …, "2": …}`` as JSON, from our values.

        >>> Approved("done_ack", "en", "HX" + "0" * 32, ("code",)).content_variables(
        ...     {"code": "4821"})
        '{"1": "4821"}'
        """
        return json.dumps(
            {str(n): _variable(values.get(name)) for n, name in enumerate(self.variables, 1)},
            ensure_ascii=False,
        )


def _variable(value: object) -> str:
    """WhatsApp refuses a template variable that is empty or holds a newline, a tab or
    more than four spaces in a row: one line, never empty."""
    text = " ".join(str(value if value is not None else "").split())
    return text or "-"


class WhatsAppTemplates:
    """Our message keys → approved templates, per language."""

    def __init__(self, approved: Mapping[tuple[str, str], Approved], always: frozenset[str]):
        self._approved = dict(approved)
        self.always = always  # keys that go as a template even within the window

    def get(self, key: str, language: str) -> Approved | None:
        """The approved template of ``key`` in ``language`` (else in English), or None."""
        return self._approved.get((key, language)) or self._approved.get((key, "en"))

    def keys(self) -> frozenset[str]:
        return frozenset(k for k, _ in self._approved)

    def check(self, catalogue: Catalogue) -> None:
        """Every template is for a message of the catalogue, and its variables are that
        message's placeholders (a typo would send "-" for ever)."""
        for (key, language), approved in self._approved.items():
            try:
                placeholders = catalogue.template(key, language).placeholders
            except CatalogueError:
                raise WhatsAppError(f"whatsapp: [templates.{key}] is not a message") from None
            unknown = set(approved.variables) - placeholders
            if unknown:
                raise WhatsAppError(
                    f"whatsapp: [templates.{key}] variables {sorted(unknown)} are not among "
                    f"the message's placeholders {sorted(placeholders)}"
                )

    @classmethod
    def load(cls, path: str | Path) -> WhatsAppTemplates:
        path = Path(path)
        if not path.exists():
            return cls({}, frozenset())
        with path.open("rb") as f:
            try:
                data = tomllib.load(f)
            except tomllib.TOMLDecodeError as exc:
                raise WhatsAppError(f"{path}: {exc}") from exc
        return cls.from_table(data, where=str(path))

    @classmethod
    def from_table(
        cls, data: Mapping[str, object], *, where: str = "whatsapp"
    ) -> WhatsAppTemplates:
        always = data.get("always_template", [])
        if not isinstance(always, list) or not all(isinstance(k, str) for k in always):
            raise WhatsAppError(f"{where}: always_template must be a list of message keys")
        templates = data.get("templates", {})
        if not isinstance(templates, Mapping):
            raise WhatsAppError(f"{where}: [templates.<message>] tables expected")
        approved: dict[tuple[str, str], Approved] = {}
        for key, entry in templates.items():
            here = f"{where}: [templates.{key}]"
            if not isinstance(entry, Mapping) or set(entry) - {"variables", "content_sid", "body"}:
                raise WhatsAppError(f"{here} takes variables, content_sid and body")
            variables = entry.get("variables", [])
            if not isinstance(variables, list) or not all(isinstance(v, str) for v in variables):
                raise WhatsAppError(f"{here}: variables must be a list of placeholder names")
            sids = entry.get("content_sid", {})
            if not isinstance(sids, Mapping):
                raise WhatsAppError(f'{here}: content_sid = {{ en = "HX…", es = "HX…" }}')
            for language, sid in sids.items():
                if sid == "":
                    continue  # not approved (yet) in this language
                if not isinstance(sid, str) or not _CONTENT_SID.match(sid):
                    raise WhatsAppError(f"{here}: {language}: {sid!r} is not a Content SID (HX…)")
                approved[(key, language)] = Approved(key, language, sid, tuple(variables))
        return cls(approved, frozenset(always))
