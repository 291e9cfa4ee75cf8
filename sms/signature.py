"""Twilio webhook signatures: the public URL Twilio called, and checking the HMAC against it."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any
from urllib.parse import quote

from twilio.request_validator import RequestValidator

__all__ = [
    "SIGNATURE_HEADER",
    "ParamsLike",
    "compute_signature",
    "is_message_sid",
    "is_valid_signature",
    "public_url",
]

SIGNATURE_HEADER = "X-Twilio-Signature"

# Form parameters as a plain mapping, a multi-dict (anything with ``getlist``) or a
# list of pairs; Twilio signs every value of a repeated parameter.
ParamsLike = Mapping[str, str] | Iterable[tuple[str, str]]

# Twilio's message ids: SM (SMS) or MM (MMS) and 32 lower-case hex digits.
_MESSAGE_SID = re.compile(r"(?:SM|MM)[0-9a-f]{32}")


def is_message_sid(value: str) -> bool:
    """Whether ``value`` has the shape of a Twilio MessageSid. A valid signature does not
    vouch for the parameters' boundaries: Twilio signs ``key + value`` pairs with no
    separator, so a captured request re-cut as ``MessageSid=SMx…NumMedia0`` (NumMedia
    dropped) keeps its signature with a new sid. The shape check refuses that.

    >>> is_message_sid("SM" + "0a" * 16), is_message_sid("SM" + "0a" * 16 + "NumMedia0")
    (True, False)
    """
    return _MESSAGE_SID.fullmatch(value) is not None


# Characters left as they are when re-encoding a decoded path: RFC 3986 pchar minus "%".
_PATH_SAFE = "/:@!$&'()*+,;=-._~"


def public_url(
    base_url: str | None,
    *,
    scheme: str,
    host: str,
    path: str,
    query_string: bytes | str,
    forwarded_proto: str | None = None,
    forwarded_host: str | None = None,
    forwarded_port: str | None = None,
    trusted_proxies: int = 0,
) -> str:
    """Rebuild the exact URL Twilio requested, which is what it signed.

    ``base_url`` (a configured public base such as ``https://aid.example.org``) wins
    when set. Otherwise the ``X-Forwarded-*`` values are used only when
    ``trusted_proxies`` > 0, taking the entry that many hops from the right — the one
    written by the outermost proxy we trust, as Werkzeug's ``ProxyFix`` does — and
    falling back to ``scheme`` and ``host`` as the app saw them. (When Werkzeug's
    ``ProxyFix`` has already rewritten scheme and host, pass ``trusted_proxies=0``.)

    ``path`` is the decoded request path (``request.path``), relative to ``base_url``;
    it is re-encoded. ``query_string`` is the *raw* query string
    (``request.query_string``) and is kept byte for byte: decoding it would change
    the signed text.

    >>> public_url("https://aid.example.org/", scheme="http", host="10.0.0.5:8000",
    ...            path="/sms/status", query_string=b"id=42&k=a%2Bb")
    'https://aid.example.org/sms/status?id=42&k=a%2Bb'
    >>> public_url(None, scheme="http", host="10.0.0.5:8000", path="/sms/inbound",
    ...            query_string=b"", forwarded_proto="https", forwarded_host="aid.example.org",
    ...            trusted_proxies=1)
    'https://aid.example.org/sms/inbound'
    """
    if trusted_proxies < 0:
        raise ValueError("trusted_proxies must be >= 0")
    query = _decode_query(query_string) if isinstance(query_string, bytes) else query_string
    encoded_path = quote(path, safe=_PATH_SAFE)
    suffix = encoded_path + ("?" + query if query else "")

    if base_url:
        return base_url.rstrip("/") + suffix

    if trusted_proxies:
        scheme = _forwarded_value(forwarded_proto, trusted_proxies) or scheme
        host = _forwarded_value(forwarded_host, trusted_proxies) or host
        port = _forwarded_value(forwarded_port, trusted_proxies)
        if port:
            host = f"{_strip_port(host)}:{port}"
    return f"{scheme}://{host}{suffix}"


def is_valid_signature(
    auth_token: str,
    url: str,
    params: ParamsLike,
    signature: str | None,
) -> bool:
    """True when ``signature`` (the ``X-Twilio-Signature`` header) matches the request.

    ``url`` is the public URL from :func:`public_url`; ``params`` are the POST form
    fields (empty for GET). Twilio's validator tries the URL with and without the
    default port. A missing or empty signature, or an empty auth token, is invalid.
    """
    if not signature or not auth_token:
        return False
    validator = RequestValidator(auth_token)
    return bool(validator.validate(url, _MultiParams.of(params), signature))


def compute_signature(auth_token: str, url: str, params: ParamsLike) -> str:
    """The ``X-Twilio-Signature`` Twilio would send for this URL and form (tests, fakes)."""
    return str(RequestValidator(auth_token).compute_signature(url, _MultiParams.of(params)))


class _MultiParams(dict[str, list[str]]):
    """Form fields with every value kept, in the shape ``RequestValidator`` reads."""

    @classmethod
    def of(cls, params: ParamsLike) -> _MultiParams:
        pairs: Iterable[tuple[str, str]]
        getlist: Any = getattr(params, "getlist", None)
        if callable(getlist) and isinstance(params, Mapping):
            pairs = [(key, value) for key in params for value in getlist(key)]
        elif isinstance(params, Mapping):
            pairs = params.items()
        else:
            pairs = params
        result = cls()
        for key, value in pairs:
            result.setdefault(key, []).append(value)
        return result

    def getall(self, name: str) -> list[str]:
        return self[name]


def _decode_query(raw: bytes) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        # WSGI's own reading of raw bytes; such a URL will not verify, but must not crash.
        return raw.decode("latin-1")


def _forwarded_value(header: str | None, trusted: int) -> str | None:
    if not header:
        return None
    values = [value.strip() for value in header.split(",")]
    if len(values) < trusted:
        return None
    return values[-trusted] or None


def _strip_port(host: str) -> str:
    if host.startswith("["):  # IPv6 literal
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if ":" in host else host
