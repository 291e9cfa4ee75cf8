"""A fake of Twilio's Messages REST API, served over real HTTP on 127.0.0.1 (tests, benchmarks).

The real ``twilio`` client talks to it through :class:`sms.transport.TwilioSender`
with ``api_base_url=fake.base_url``. It records what was sent, checks basic auth
and the required parameters, answers with Twilio's JSON shapes (messages, pages,
errors), honours Twilio's magic test numbers, can be told to fail, stall or drop
the connection, and sends signed status callbacks and inbound webhooks.

Run standalone with ``python -m sms.fake_twilio --port 8099``.
"""

from __future__ import annotations

import argparse
import base64
import binascii
import contextlib
import json
import re
import socket
import threading
import urllib.error
import urllib.request
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sms.signature import SIGNATURE_HEADER, compute_signature

__all__ = [
    "DEFAULT_ACCOUNT_SID",
    "DEFAULT_AUTH_TOKEN",
    "MAGIC_TO_NUMBERS",
    "FakeTwilio",
    "RecordedRequest",
    "Webhook",
]

DEFAULT_ACCOUNT_SID = "AC" + "0" * 32
DEFAULT_AUTH_TOKEN = "fake-twilio-auth-token"
API_VERSION = "2010-04-01"

# Twilio's test-credential "magic" destination numbers and the errors they give.
MAGIC_TO_NUMBERS: dict[str, int] = {
    "+15005550001": 21211,  # invalid number
    "+15005550002": 21612,  # cannot route
    "+15005550003": 21408,  # no international permission
    "+15005550004": 21610,  # blocked: unsubscribed
    "+15005550009": 21614,  # not SMS-capable
}
# The number a Messaging Service "picks" when the message names none.
SERVICE_NUMBER = "+15005550006"

# code -> (HTTP status, message) as Twilio words them; {to}/{from} filled in.
_ERRORS: dict[int, tuple[int, str]] = {
    20003: (401, "Authenticate"),
    20404: (404, "The requested resource {path} was not found"),
    20429: (429, "Too Many Requests"),
    20500: (500, "An internal server error has occurred"),
    20503: (503, "Service is unavailable. Please try again"),
    21211: (400, "Invalid 'To' Phone Number: {to}"),
    21408: (
        400,
        "Permission to send an SMS has not been enabled for the region indicated by "
        "the 'To' number: {to}",
    ),
    21602: (400, "Message body is required."),
    21603: (400, "A 'From' phone number is required."),
    21604: (400, "A 'To' phone number is required."),
    21610: (400, "Attempt to send to unsubscribed recipient"),
    21612: (
        400,
        "The 'To' phone number: {to}, is not currently reachable using the 'From' "
        "phone number: {from} via SMS.",
    ),
    21614: (400, "'To' number is not a valid mobile number"),
    21617: (400, "The concatenated message body exceeds the 1600 character limit."),
    21701: (400, "The Messaging Service Sid {service} is invalid."),
    30003: (400, "Unreachable destination handset"),
    30005: (400, "Unknown destination handset"),
    30006: (400, "Landline or unreachable carrier"),
}
_HTTP_STATUS_CODES = {429: 20429, 500: 20500, 503: 20503}
_STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
_START_WORDS = {"START", "UNSTOP"}
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")
_MESSAGES_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$"
)
_GSM_BASIC = set(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
_GSM_EXTENDED = set("^{}\\[~]|€\f")


@dataclass
class _Message:
    sid: str
    account_sid: str
    direction: str  # "outbound-api" | "inbound"
    to: str
    from_: str | None
    body: str
    status: str
    date_created: datetime
    messaging_service_sid: str | None = None
    status_callback: str | None = None
    date_sent: datetime | None = None
    date_updated: datetime | None = None
    error_code: int | None = None

    def as_dict(self) -> dict[str, Any]:
        return {
            "sid": self.sid,
            "account_sid": self.account_sid,
            "direction": self.direction,
            "to": self.to,
            "from": self.from_,
            "body": self.body,
            "status": self.status,
            "status_callback": self.status_callback,
            "messaging_service_sid": self.messaging_service_sid,
            "date_created": self.date_created,
            "date_sent": self.date_sent,
            "error_code": self.error_code,
        }

    def to_json(self) -> dict[str, Any]:
        uri = f"/{API_VERSION}/Accounts/{self.account_sid}/Messages/{self.sid}"
        return {
            "account_sid": self.account_sid,
            "api_version": API_VERSION,
            "body": self.body,
            "date_created": _rfc2822(self.date_created),
            "date_sent": _rfc2822(self.date_sent),
            "date_updated": _rfc2822(self.date_updated or self.date_created),
            "direction": self.direction,
            "error_code": self.error_code,
            "error_message": None,
            "from": self.from_,
            "messaging_service_sid": self.messaging_service_sid,
            "num_media": "0",
            "num_segments": str(_segments(self.body)),
            "price": None,
            "price_unit": "USD",
            "sid": self.sid,
            "status": self.status,
            "subresource_uris": {"media": f"{uri}/Media.json", "feedback": f"{uri}/Feedback.json"},
            "to": self.to,
            "uri": f"{uri}.json",
        }


@dataclass(frozen=True, slots=True)
class RecordedRequest:
    """One request the fake answered (``status`` None when it dropped the connection)."""

    method: str
    path: str
    params: dict[str, str]
    status: int | None


@dataclass
class Webhook:
    """A signed form POST as Twilio would make it: a status callback or an inbound message."""

    url: str
    params: dict[str, str]
    signature: str
    response_status: int | None = None  # set once posted over HTTP

    @property
    def headers(self) -> dict[str, str]:
        return {
            SIGNATURE_HEADER: self.signature,
            "Content-Type": "application/x-www-form-urlencoded",
            "User-Agent": "TwilioProxy/1.1",
        }

    @property
    def path(self) -> str:
        """Path and raw query string, for posting through a WSGI test client."""
        parts = urlsplit(self.url)
        return parts.path + ("?" + parts.query if parts.query else "")


@dataclass
class _Action:
    kind: str  # "fail" | "delay" | "drop"
    times: int
    code: int = 0
    http_status: int = 400
    message: str | None = None
    retry_after: float | None = None
    seconds: float = 0.0
    after_create: bool = True


@dataclass
class _State:
    messages: list[_Message] = field(default_factory=list)
    requests: list[RecordedRequest] = field(default_factory=list)
    actions: list[_Action] = field(default_factory=list)
    opted_out: set[str] = field(default_factory=set)


class FakeTwilio:
    """Twilio's Messages API on 127.0.0.1, a random port by default.

    >>> with FakeTwilio() as fake:            # doctest: +SKIP
    ...     sender = TwilioSender(fake.account_sid, fake.auth_token,
    ...                           from_number="+15005550006", api_base_url=fake.base_url)
    ...     sender.send("+17185550101", "hello")
    ...     fake.messages[0]["body"]
    'hello'

    ``callback_transport`` delivers status callbacks (default: a real HTTP POST to
    the callback URL); a test of a WSGI app can pass a function that posts the
    :class:`Webhook` through its test client instead and returns the status code.
    With ``auto_deliver``, every created message gets "sent" then "delivered"
    callbacks right after the create response.
    """

    def __init__(
        self,
        account_sid: str = DEFAULT_ACCOUNT_SID,
        auth_token: str = DEFAULT_AUTH_TOKEN,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        callback_transport: Callable[[Webhook], int | None] | None = None,
        auto_deliver: bool = False,
    ) -> None:
        self.account_sid = account_sid
        self.auth_token = auth_token
        self.callback_transport = callback_transport or post_webhook
        self.auto_deliver = auto_deliver
        self._host = host
        self._port = port
        self._lock = threading.RLock()
        self._state = _State()
        self._stopping = threading.Event()
        self._server: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle ---------------------------------------------------------------

    def start(self) -> FakeTwilio:
        if self._server is not None:
            raise RuntimeError("already started")
        self._stopping.clear()
        self._server = _Server((self._host, self._port), _Handler, self)
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.02},
            name="fake-twilio",
            daemon=True,
        )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop serving, wake stalled handlers, close open connections, join threads."""
        server, self._server = self._server, None
        if server is None:
            return
        self._stopping.set()
        server.shutdown()
        server.close_connections()
        server.server_close()  # joins the handler threads
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def __enter__(self) -> FakeTwilio:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    @property
    def base_url(self) -> str:
        if self._server is None:
            raise RuntimeError("not started")
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    @property
    def messages_url(self) -> str:
        return f"{self.base_url}/{API_VERSION}/Accounts/{self.account_sid}/Messages.json"

    # -- what happened -----------------------------------------------------------

    @property
    def messages(self) -> list[dict[str, Any]]:
        """Outbound messages created through the API, oldest first (copies)."""
        with self._lock:
            return [m.as_dict() for m in self._state.messages if m.direction != "inbound"]

    @property
    def inbound(self) -> list[dict[str, Any]]:
        with self._lock:
            return [m.as_dict() for m in self._state.messages if m.direction == "inbound"]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._state.requests)

    def message(self, sid: str) -> dict[str, Any]:
        with self._lock:
            return self._find(sid).as_dict()

    def clear(self) -> None:
        """Forget messages, requests, queued failures and opt-outs."""
        with self._lock:
            self._state = _State()

    # -- steering ----------------------------------------------------------------

    def fail_next(
        self,
        code: int,
        times: int = 1,
        *,
        message: str | None = None,
        http_status: int | None = None,
        retry_after: float | None = 1.0,
    ) -> None:
        """Answer the next ``times`` message creations with a Twilio error.

        ``code`` is a Twilio error code (21610, 21211, 30003...) or an HTTP status
        (429, 500, 503), which maps to Twilio's 20429/20500/20503. Rate limiting
        carries ``Retry-After``. (30xxx codes are really delivery errors reported by
        status callback — see :meth:`deliver` — but can be forced here too.)
        """
        if code in _HTTP_STATUS_CODES:
            code = _HTTP_STATUS_CODES[code]
        status = http_status or _ERRORS.get(code, (400, ""))[0]
        self._queue(
            _Action(
                "fail",
                times,
                code=code,
                http_status=status,
                message=message,
                retry_after=retry_after if status == 429 else None,
            )
        )

    def timeout_next(self, seconds: float, times: int = 1, *, after_create: bool = True) -> None:
        """Stall the next ``times`` creations for ``seconds`` before answering.

        ``after_create=True``: the message is created first, then the answer is late
        (a client read timeout while the message exists). ``False``: the request is
        never processed; after the stall the connection is dropped.
        """
        self._queue(_Action("delay", times, seconds=seconds, after_create=after_create))

    def drop_next(self, times: int = 1, *, after_create: bool = True) -> None:
        """Close the connection without an answer on the next ``times`` creations."""
        self._queue(_Action("drop", times, after_create=after_create))

    def opt_out(self, number: str) -> None:
        """Block sends to ``number`` with 21610, as Twilio does after STOP."""
        with self._lock:
            self._state.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self._lock:
            self._state.opted_out.discard(number)

    # -- the other direction -----------------------------------------------------

    def add_inbound(
        self,
        from_: str,
        to: str,
        body: str,
        *,
        messaging_service_sid: str | None = None,
        received_at: datetime | None = None,
    ) -> dict[str, Any]:
        """Store a message a person texted in; the list endpoint returns it as inbound.

        Twilio's own STOP/START keywords opt the sender out or back in.
        """
        now = received_at or _now()
        message = _Message(
            sid=_new_sid("SM"),
            account_sid=self.account_sid,
            direction="inbound",
            to=to,
            from_=from_,
            body=body,
            status="received",
            date_created=now,
            date_sent=now,
            messaging_service_sid=messaging_service_sid,
        )
        keyword = body.strip().upper()
        with self._lock:
            self._state.messages.append(message)
            if keyword in _STOP_WORDS:
                self._state.opted_out.add(from_)
            elif keyword in _START_WORDS:
                self._state.opted_out.discard(from_)
        return message.as_dict()

    def inbound_webhook(
        self,
        url: str,
        from_: str,
        to: str,
        body: str,
        *,
        media_urls: Iterable[str] = (),
        messaging_service_sid: str | None = None,
        post: bool = False,
    ) -> Webhook:
        """Store an inbound message and build the signed webhook Twilio would POST to ``url``."""
        stored = self.add_inbound(from_, to, body, messaging_service_sid=messaging_service_sid)
        media = list(media_urls)
        params = {
            "ToCountry": "US",
            "SmsMessageSid": stored["sid"],
            "NumMedia": str(len(media)),
            "SmsSid": stored["sid"],
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": str(_segments(body)),
            "MessageSid": stored["sid"],
            "AccountSid": self.account_sid,
            "From": from_,
            "FromCountry": "US",
            "ApiVersion": API_VERSION,
        }
        if messaging_service_sid:
            params["MessagingServiceSid"] = messaging_service_sid
        for index, media_url in enumerate(media):
            params[f"MediaUrl{index}"] = media_url
            params[f"MediaContentType{index}"] = "image/jpeg"
        webhook = self.sign(url, params)
        if post:
            webhook.response_status = self.callback_transport(webhook)
        return webhook

    def deliver(
        self,
        sid: str,
        status: str = "delivered",
        *,
        error_code: int | None = None,
        post: bool = True,
    ) -> Webhook | None:
        """Move a message to ``status`` and send its signed status callback.

        Returns the callback (with ``response_status`` when posted), or None when the
        message has no StatusCallback URL. Call it twice, or out of order, to test
        duplicated and late callbacks.
        """
        with self._lock:
            message = self._find(sid)
            message.status = status
            message.date_updated = _now()
            if status in ("sent", "delivered", "undelivered") and message.date_sent is None:
                message.date_sent = message.date_updated
            if error_code is not None:
                message.error_code = error_code
            webhook = self._status_callback(message, status, error_code)
        if webhook is not None and post:
            webhook.response_status = self.callback_transport(webhook)
        return webhook

    def sign(self, url: str, params: Mapping[str, str]) -> Webhook:
        """A webhook to ``url`` with ``params``, signed with this account's auth token."""
        form = dict(params)
        return Webhook(url, form, compute_signature(self.auth_token, url, form))

    # -- internals ---------------------------------------------------------------

    def _queue(self, action: _Action) -> None:
        if action.times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._state.actions.append(action)

    def _next_action(self) -> _Action | None:
        with self._lock:
            if not self._state.actions:
                return None
            action = self._state.actions[0]
            action.times -= 1
            if action.times == 0:
                self._state.actions.pop(0)
            return action

    def _find(self, sid: str) -> _Message:
        for message in self._state.messages:
            if message.sid == sid:
                return message
        raise KeyError(sid)

    def _status_callback(
        self, message: _Message, status: str, error_code: int | None
    ) -> Webhook | None:
        if not message.status_callback:
            return None
        params = {
            "SmsSid": message.sid,
            "SmsStatus": status,
            "MessageStatus": status,
            "To": message.to,
            "MessageSid": message.sid,
            "AccountSid": message.account_sid,
            "From": message.from_ or SERVICE_NUMBER,
            "ApiVersion": API_VERSION,
        }
        if message.messaging_service_sid:
            params["MessagingServiceSid"] = message.messaging_service_sid
        if error_code is not None:
            params["ErrorCode"] = str(error_code)
        return self.sign(message.status_callback, params)

    def _record(self, method: str, path: str, params: dict[str, str], status: int | None) -> None:
        with self._lock:
            self._state.requests.append(RecordedRequest(method, path, params, status))

    def _create(self, account: str, form: dict[str, str]) -> tuple[int, dict[str, Any]]:
        """Validate like Twilio and store the message; (HTTP status, JSON body)."""
        to = form.get("To", "").strip()
        from_ = form.get("From", "").strip() or None
        service = form.get("MessagingServiceSid", "").strip() or None
        body = form.get("Body", "")
        details = {"to": to, "from": from_ or "", "service": service or ""}
        if not to:
            return _error(21604, details=details)
        if not from_ and not service:
            return _error(21603, details=details)
        if service and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
            return _error(21701, details=details)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return _error(21602, details=details)
        if len(body) > 1600:
            return _error(21617, details=details)
        if to in MAGIC_TO_NUMBERS:
            return _error(MAGIC_TO_NUMBERS[to], details=details)
        if not _E164.match(to):
            return _error(21211, details=details)
        with self._lock:
            if to in self._state.opted_out:
                return _error(21610, details=details)
            message = _Message(
                sid=_new_sid("SM"),
                account_sid=account,
                direction="outbound-api",
                to=to,
                from_=from_,
                body=body,
                # A Messaging Service accepts first and picks a sender later.
                status="accepted" if service else "queued",
                date_created=_now(),
                messaging_service_sid=service,
                status_callback=form.get("StatusCallback") or None,
            )
            self._state.messages.append(message)
        return 201, message.to_json()

    def _list(self, account: str, query: dict[str, str], path: str) -> tuple[int, dict[str, Any]]:
        try:
            page_size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
            sent_on = _parse_date(query.get("DateSent"))
            sent_after = _parse_date(query.get("DateSent>"))
            sent_before = _parse_date(query.get("DateSent<"))
        except ValueError:
            return _error(20001, message="Invalid paging or date parameter", http_status=400)
        with self._lock:
            found = [m for m in self._state.messages if m.account_sid == account]
        if query.get("To"):
            found = [m for m in found if m.to == query["To"]]
        if query.get("From"):
            found = [m for m in found if m.from_ == query["From"]]
        if sent_on or sent_after or sent_before:
            found = [m for m in found if m.date_sent is not None]
        if sent_on:
            found = [m for m in found if m.date_sent and m.date_sent.date() == sent_on.date()]
        if sent_after:
            found = [m for m in found if m.date_sent and m.date_sent >= sent_after]
        if sent_before:
            found = [m for m in found if m.date_sent and m.date_sent <= sent_before]
        found = list(reversed(found))  # newest first, as Twilio lists them
        start = page * page_size
        chunk = found[start : start + page_size]
        filters = {
            k: v
            for k, v in query.items()
            if k in ("To", "From", "DateSent", "DateSent>", "DateSent<")
        }

        def page_uri(number: int) -> str:
            extra: dict[str, str] = {"PageSize": str(page_size), "Page": str(number)}
            if number > 0:
                extra["PageToken"] = "PA" + (chunk[0].sid if chunk else "0")
            return f"{path}?{urlencode({**filters, **extra})}"

        has_next = start + page_size < len(found)
        return 200, {
            "first_page_uri": page_uri(0),
            "end": start + max(len(chunk) - 1, 0),
            "previous_page_uri": page_uri(page - 1) if page > 0 else None,
            "messages": [m.to_json() for m in chunk],
            "uri": page_uri(page),
            "page_size": page_size,
            "start": start,
            "next_page_uri": page_uri(page + 1) if has_next else None,
            "page": page,
        }

    def _fetch(self, account: str, sid: str, path: str) -> tuple[int, dict[str, Any]]:
        with self._lock:
            for message in self._state.messages:
                if message.sid == sid and message.account_sid == account:
                    return 200, message.to_json()
        return _error(20404, details={"path": path})

    def _auth_ok(self, header: str | None) -> bool:
        if not header or not header.startswith("Basic "):
            return False
        try:
            decoded = base64.b64decode(header[6:], validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError):
            return False
        username, _, password = decoded.partition(":")
        return username == self.account_sid and password == self.auth_token


class _Server(ThreadingHTTPServer):
    # close() shuts open keep-alive sockets, then server_close() joins every handler
    # thread; daemon threads so a fake someone forgot to close never blocks exit.
    daemon_threads = True
    block_on_close = True

    def __init__(self, address: tuple[str, int], handler: type[_Handler], fake: FakeTwilio) -> None:
        self.fake = fake
        self.connections: set[socket.socket] = set()
        self.connections_lock = threading.Lock()
        super().__init__(address, handler)

    def close_connections(self) -> None:
        with self.connections_lock:
            open_sockets = list(self.connections)
        for sock in open_sockets:
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _Server
    server_version = "FakeTwilio/1.0"
    sys_version = ""
    # headers and body go out in two writes; with Nagle on, each answer waits ~40 ms
    disable_nagle_algorithm = True

    def setup(self) -> None:
        super().setup()
        with self.server.connections_lock:
            self.server.connections.add(self.connection)

    def finish(self) -> None:
        with self.server.connections_lock:
            self.server.connections.discard(self.connection)
        with contextlib.suppress(OSError):
            super().finish()

    def handle(self) -> None:
        with contextlib.suppress(ConnectionError, TimeoutError):
            super().handle()

    def log_message(self, format: str, *args: Any) -> None:
        pass  # quiet: tests and benchmarks read fake.requests instead

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _dispatch(self, method: str) -> None:
        fake = self.server.fake
        parts = urlsplit(self.path)
        query = dict(parse_qsl(parts.query, keep_blank_values=True))
        try:
            length = max(int(self.headers.get("Content-Length") or 0), 0)
        except ValueError:
            length = 0
        raw = self.rfile.read(length) if length else b""
        form = dict(parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True))
        params = form if method == "POST" else query

        if not fake._auth_ok(self.headers.get("Authorization")):
            status, payload = _error(20003)
            payload["detail"] = "Your AccountSid or AuthToken was incorrect."
            fake._record(method, parts.path, params, status)
            self._reply(status, payload, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        match = _MESSAGES_PATH.match(parts.path)
        if match is None or match["account"] != fake.account_sid:
            self._answer(method, parts.path, params, _error(20404, details={"path": parts.path}))
            return
        sid = match["sid"]
        if method == "GET" and sid:
            self._answer(method, parts.path, params, fake._fetch(match["account"], sid, parts.path))
        elif method == "GET":
            self._answer(
                method, parts.path, params, fake._list(match["account"], query, parts.path)
            )
        elif method == "POST" and not sid:
            self._create(match["account"], parts.path, form)
        else:
            self._answer(method, parts.path, params, _error(20404, details={"path": parts.path}))

    def _create(self, account: str, path: str, form: dict[str, str]) -> None:
        fake = self.server.fake
        action = fake._next_action()
        if action is not None and action.kind == "fail":
            status, payload = _error(
                action.code,
                message=action.message,
                http_status=action.http_status,
                details=_details(form),
            )
            headers = {}
            if action.retry_after is not None:
                headers["Retry-After"] = f"{action.retry_after:g}"
            fake._record("POST", path, form, status)
            self._reply(status, payload, headers)
            return
        if action is not None and not action.after_create:
            fake._record("POST", path, form, None)
            if action.kind == "delay":
                fake._stopping.wait(action.seconds)
            self._drop()
            return

        status, payload = fake._create(account, form)
        if action is not None and action.kind == "drop":
            fake._record("POST", path, form, None)
            self._drop()
            return
        fake._record("POST", path, form, status)
        if action is not None and action.kind == "delay":
            fake._stopping.wait(action.seconds)
        self._reply(status, payload)
        if status == 201 and fake.auto_deliver:
            for step in ("sent", "delivered"):
                with contextlib.suppress(KeyError, OSError):
                    fake.deliver(payload["sid"], step)

    def _answer(
        self, method: str, path: str, params: dict[str, str], result: tuple[int, dict[str, Any]]
    ) -> None:
        status, payload = result
        # recorded before answering, so a client that has its answer sees the record
        self.server.fake._record(method, path, params, status)
        self._reply(status, payload)

    def _reply(
        self, status: int, payload: dict[str, Any], headers: Mapping[str, str] | None = None
    ) -> None:
        body = json.dumps(payload).encode("utf-8")
        try:
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body)
            self.wfile.flush()
        except OSError:
            self.close_connection = True  # the client gave up (timed out) or we are closing

    def _drop(self) -> None:
        self.close_connection = True
        with contextlib.suppress(OSError):
            self.connection.shutdown(socket.SHUT_RDWR)


def _details(form: Mapping[str, str]) -> dict[str, str]:
    return {
        "to": form.get("To", ""),
        "from": form.get("From", ""),
        "service": form.get("MessagingServiceSid", ""),
    }


def _error(
    code: int,
    *,
    message: str | None = None,
    http_status: int | None = None,
    details: Mapping[str, str] | None = None,
) -> tuple[int, dict[str, Any]]:
    """Twilio's error body: code, message, more_info, status."""
    default_status, template = _ERRORS.get(code, (400, f"Error {code}"))
    status = http_status or default_status
    if message is None:
        try:
            message = template.format(details=details)
        except KeyError:
            message = template
    return status, {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": status,
    }


def post_webhook(webhook: Webhook, timeout: float = 5.0) -> int | None:
    """POST a webhook over real HTTP (no proxies); the response status, None if unreachable."""
    data = urlencode(webhook.params).encode("utf-8")
    request = urllib.request.Request(webhook.url, data=data, headers=webhook.headers)
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(request, timeout=timeout) as response:
            response.read()
            return int(response.status)
    except urllib.error.HTTPError as exc:
        with exc:
            return int(exc.code)
    except (urllib.error.URLError, OSError):
        return None


def _new_sid(prefix: str) -> str:
    return prefix + uuid.uuid4().hex


def _now() -> datetime:
    # Twilio's dates have whole seconds; keep microseconds so ordering in tests is stable.
    return datetime.now(UTC)


def _rfc2822(value: datetime | None) -> str | None:
    return None if value is None else format_datetime(value.astimezone(UTC), usegmt=False)


def _parse_date(value: str | None) -> datetime | None:
    """Twilio's date filters: ``YYYY-MM-DD`` or ``YYYY-MM-DDTHH:MM:SSZ``, in UTC."""
    if not value:
        return None
    text = value.strip()
    if len(text) == 10:
        return datetime.combine(date.fromisoformat(text), time.min, tzinfo=UTC)
    parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _segments(body: str) -> int:
    """Rough segment count for the fake's answers (the real counter is sms.segments)."""
    if all(ch in _GSM_BASIC or ch in _GSM_EXTENDED for ch in body):
        units = sum(2 if ch in _GSM_EXTENDED else 1 for ch in body)
        single, part = 160, 153
    else:
        units = sum(2 if ord(ch) > 0xFFFF else 1 for ch in body)
        single, part = 70, 67
    if units <= single:
        return 1
    return -(-units // part)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve a fake Twilio Messages API.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8099)
    parser.add_argument("--account-sid", default=DEFAULT_ACCOUNT_SID)
    parser.add_argument("--auth-token", default=DEFAULT_AUTH_TOKEN)
    parser.add_argument(
        "--auto-deliver",
        action="store_true",
        help="post 'sent' and 'delivered' status callbacks after each message",
    )
    args = parser.parse_args(argv)
    fake = FakeTwilio(
        args.account_sid,
        args.auth_token,
        host=args.host,
        port=args.port,
        auto_deliver=args.auto_deliver,
    )
    with fake:
        print(f"Fake Twilio API on {fake.base_url}", flush=True)
        print(f"  account sid {fake.account_sid}  auth token {fake.auth_token}", flush=True)
        print(f"  MUTUALAID_TWILIO_API_BASE_URL={fake.base_url}", flush=True)
        try:
            threading.Event().wait()
        except KeyboardInterrupt:
            print(f"\n{len(fake.messages)} messages created", flush=True)


if __name__ == "__main__":
    main()
