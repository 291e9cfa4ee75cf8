"""Signed links sent by SMS: a volunteer's link to one proposal.

A link is bound to one match and that match's volunteer (and its code): any change to
the number or the signature makes it unknown (404). It needs no expiry of its own: it
lives as long as the proposal it points at, which the page checks.
"""

from __future__ import annotations

import base64
import hashlib
import hmac

from mutualaid.models import Match

SIGNATURE_CHARS = 16  # 96 bits: short enough for an SMS, far too many to guess
MAX_ID = 2**31 - 1  # the largest id an integer column holds


def _signature(secret: str, match_id: int, offer_id: int, code: str) -> str:
    mac = hmac.new(
        secret.encode(), f"proposal:{match_id}:{offer_id}:{code}".encode(), hashlib.sha256
    )
    return base64.urlsafe_b64encode(mac.digest()).decode()[:SIGNATURE_CHARS]


def proposal_token(secret: str, match: Match) -> str:
    return f"{match.id}.{_signature(secret, match.id, match.offer_id, match.code)}"


def token_match_id(token: str) -> int | None:
    """The match a token claims to be for (not yet verified), or None if malformed."""
    number, _, signature = token.partition(".")
    if not (number.isascii() and number.isdigit()) or len(signature) != SIGNATURE_CHARS:
        return None
    if len(number) > 10 or int(number) > MAX_ID:
        return None  # no row has such an id (and PostgreSQL refuses to look)
    return int(number)


def token_is_valid(secret: str, token: str, match: Match) -> bool:
    _, _, signature = token.partition(".")
    expected = _signature(secret, match.id, match.offer_id, match.code)
    return hmac.compare_digest(signature, expected)


def proposal_link(base_url: str, secret: str, match: Match) -> str:
    return f"{base_url}/t/{proposal_token(secret, match)}"


def base_url(public_base_url: str, *, host: str | None, port: str | None) -> str:
    """Where links sent by SMS point: PUBLIC_BASE_URL when set, else the host and port
    this service really runs on (the launcher's and Procfile's HOST and PORT). A service
    bound to every interface (0.0.0.0, ::) is reached on this machine by loopback.

    >>> base_url("", host="127.0.0.1", port="5101")
    'http://127.0.0.1:5101'
    >>> base_url("https://aid.example.org", host="0.0.0.0", port="8000")
    'https://aid.example.org'
    """
    if public_base_url:
        return public_base_url
    host = (host or "").strip() or "127.0.0.1"
    if host in {"0.0.0.0", "::", "[::]", "*"}:
        host = "127.0.0.1"
    elif ":" in host and not host.startswith("["):
        host = f"[{host}]"  # an IPv6 address in a URL
    return f"http://{host}:{(port or '').strip() or '5000'}"
