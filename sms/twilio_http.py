"""The twilio library's HTTP client with explicit timeouts and an optional other base URL."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit, urlunsplit

from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response

__all__ = ["RedirectingHttpClient", "rewrite_twilio_url"]


def rewrite_twilio_url(url: str, api_base_url: str | None) -> str:
    """Send a ``https://*.twilio.com`` URL to ``api_base_url`` instead, path and query kept.

    Any host under twilio.com is rewritten, so region and edge hostnames
    (``api.dublin.ie1.twilio.com``) follow too; other URLs are left alone.

    >>> rewrite_twilio_url("https://api.twilio.com/2010-04-01/Accounts/AC1/Messages.json?a=1",
    ...                    "http://127.0.0.1:8099/")
    'http://127.0.0.1:8099/2010-04-01/Accounts/AC1/Messages.json?a=1'
    """
    if not api_base_url:
        return url
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
        return url
    base = urlsplit(api_base_url)
    path = base.path.rstrip("/") + parts.path
    return urlunsplit((base.scheme, base.netloc, path, parts.query, parts.fragment))


class RedirectingHttpClient(TwilioHttpClient):
    """``TwilioHttpClient`` with (connect, read) timeouts and an optional other base URL.

    The twilio library has no base-URL option and no default timeout. When
    ``api_base_url`` is set, every ``https://*.twilio.com`` request goes there and the
    session ignores proxy environment variables (``trust_env = False``), so a local
    fake is reached directly. The last response seen by each thread is kept so the
    caller can read headers (``Retry-After``) the library's exceptions drop.
    """

    def __init__(
        self,
        *,
        api_base_url: str | None = None,
        connect_timeout: float = 5.0,
        read_timeout: float = 10.0,
    ) -> None:
        if connect_timeout <= 0 or read_timeout <= 0:
            raise ValueError("timeouts must be positive")
        super().__init__(pool_connections=True)
        self.api_base_url = api_base_url.rstrip("/") if api_base_url else None
        # requests takes a (connect, read) pair; the base class only checks a float.
        self.timeout: Any = (connect_timeout, read_timeout)
        self._local = threading.local()
        if self.api_base_url and self.session is not None:
            self.session.trust_env = False

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> Response:
        self._local.last_response = None
        response = super().request(
            method,
            rewrite_twilio_url(url, self.api_base_url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._local.last_response = response
        return response

    def last_response_headers(self) -> Mapping[str, str]:
        """Headers of this thread's last response, empty when there was none."""
        response: Any = getattr(self._local, "last_response", None)
        headers = getattr(response, "headers", None)
        return headers if headers is not None else {}

    def close(self) -> None:
        if self.session is not None:
            self.session.close()
