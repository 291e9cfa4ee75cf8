"""SMS language and transport for the mutual aid service: no Flask, no database.

Language (pure functions over text and the data files in ``config/``):

- :func:`parse` reads an inbound body as a :class:`Command` (an :class:`Intent`
  and its arguments) using the :class:`Keywords` tables of each language.
- :class:`Catalogue` renders every message the service sends, per language, each
  :class:`Template` within its segment budget; :func:`segments` counts
  GSM-7/UCS-2 segments exactly.
- :func:`normalize` gives E.164 numbers, :func:`find_numbers` finds them in free
  text, :func:`mask` hides them for display; :func:`clean` strips control
  characters from an inbound body.

Transport (the only place Twilio is imported):

- :func:`public_url` rebuilds the URL Twilio called and :func:`is_valid_signature`
  checks its ``X-Twilio-Signature``.
- :class:`Sender` is the port the worker sends through; :class:`TwilioSender`,
  :class:`ConsoleSender` and :class:`FakeSender` implement it, :func:`make_sender`
  picks one by name. Failures raise :class:`SendError`, which says whether to stop
  (``permanent``), retry (``retryable``, ``retry_after``) or look first
  (``maybe_sent``).

The transport names are imported on first use, so reading texts never loads the
twilio library. ``sms.parse`` and ``sms.segments`` are the functions of those
names; import from the modules with ``from sms.parse import ...``.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

# The language half is light (stdlib and phonenumbers): imported eagerly, so that
# ``sms.parse`` and ``sms.segments`` are always the functions, never the modules.
from sms.catalog import Catalogue, CatalogueError, Template, numbered
from sms.parse import Command, Intent, Keywords, KeywordsError, Via, parse
from sms.phones import InvalidPhoneNumber, find_numbers, is_valid, mask, normalize
from sms.segments import Segments, segments
from sms.text import clean

if TYPE_CHECKING:
    from sms.signature import SIGNATURE_HEADER, compute_signature, is_valid_signature, public_url
    from sms.transport import (
        ConsoleSender,
        FakeSender,
        ProviderMessage,
        Sender,
        SendError,
        SendResult,
        SentMessage,
        TwilioSender,
        is_opt_out_error,
        is_permanent_error,
        make_sender,
    )

__all__ = [
    "SIGNATURE_HEADER",
    "Catalogue",
    "CatalogueError",
    "Command",
    "ConsoleSender",
    "FakeSender",
    "Intent",
    "InvalidPhoneNumber",
    "Keywords",
    "KeywordsError",
    "ProviderMessage",
    "Segments",
    "SendError",
    "SendResult",
    "Sender",
    "SentMessage",
    "Template",
    "TwilioSender",
    "Via",
    "clean",
    "compute_signature",
    "find_numbers",
    "is_opt_out_error",
    "is_permanent_error",
    "is_valid",
    "is_valid_signature",
    "make_sender",
    "mask",
    "normalize",
    "numbered",
    "parse",
    "public_url",
    "segments",
]

# Transport names -> the module that defines them, imported on first access.
_LAZY = {
    "SIGNATURE_HEADER": "sms.signature",
    "compute_signature": "sms.signature",
    "is_valid_signature": "sms.signature",
    "public_url": "sms.signature",
    "ConsoleSender": "sms.transport",
    "FakeSender": "sms.transport",
    "ProviderMessage": "sms.transport",
    "SendError": "sms.transport",
    "SendResult": "sms.transport",
    "Sender": "sms.transport",
    "SentMessage": "sms.transport",
    "TwilioSender": "sms.transport",
    "is_opt_out_error": "sms.transport",
    "is_permanent_error": "sms.transport",
    "make_sender": "sms.transport",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'sms' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(__all__)
