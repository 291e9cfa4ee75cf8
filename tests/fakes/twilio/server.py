"""The fake Twilio served over HTTP: :class:`FakeTwilio` (start, steer, read what
happened), its request handler, and the signed webhooks it sends (status callbacks,
inbound messages)."""

from __future__ import annotations

import base64
import binascii
import contextlib
import json
import re
import socket
import threading
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit

from sms.signature import SIGNATURE_HEADER, compute_signature
from tests.fakes.twilio.account import (
    API_VERSION,
    DEFAULT_ACCOUNT_SID,
    DEFAULT_AUTH_TOKEN,
    SERVICE_NUMBER,
    Account,
    RecordedRequest,
    StoredMessage,
    error,
    segment_count,
)
from tests.fakes.twilio.faults import Faults

_MESSAGES_PATH = re.compile(
    rf"^/{API_VERSION}/Accounts/(?P<account>[^/]+)/Messages(?:/(?P<sid>[^/]+))?\.json$"
)


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
        self.account = Account(account_sid)
        self.faults = Faults()
        self._host = host
        self._port = port
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
        with self.account.lock:
            return [m.as_dict() for m in self.account.messages if m.direction != "inbound"]

    @property
    def inbound(self) -> list[dict[str, Any]]:
        with self.account.lock:
            return [m.as_dict() for m in self.account.messages if m.direction == "inbound"]

    @property
    def requests(self) -> list[RecordedRequest]:
        with self.account.lock:
            return list(self.account.requests)

    def message(self, sid: str) -> dict[str, Any]:
        return self.account.find(sid).as_dict()

    def clear(self) -> None:
        """Forget messages, requests, queued failures and opt-outs."""
        self.account.clear()
        self.faults.clear()

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
        self.faults.fail(
            code, times, message=message, http_status=http_status, retry_after=retry_after
        )

    def timeout_next(self, seconds: float, times: int = 1, *, after_create: bool = True) -> None:
        """Stall the next ``times`` creations for ``seconds`` before answering.

        ``after_create=True``: the message is created first, then the answer is late
        (a client read timeout while the message exists). ``False``: the request is
        never processed; after the stall the connection is dropped.
        """
        self.faults.delay(seconds, times, after_create=after_create)

    def drop_next(self, times: int = 1, *, after_create: bool = True) -> None:
        """Close the connection without an answer on the next ``times`` creations."""
        self.faults.drop(times, after_create=after_create)

    def opt_out(self, number: str) -> None:
        """Block sends to ``number`` with 21610, as Twilio does after STOP."""
        self.account.opt_out(number)

    def opt_in(self, number: str) -> None:
        self.account.opt_in(number)

    def approve_template(self, content_sid: str, body: str) -> None:
        """An approved WhatsApp template (Content SID ``HX…``, ``{{1}}`` variables in
        ``body``): messages may be sent with it outside the 24-hour window."""
        with self.account.lock:
            self.account.content[content_sid] = body

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
        return self.account.add_inbound(
            from_, to, body, messaging_service_sid=messaging_service_sid, received_at=received_at
        ).as_dict()

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
        received_at: datetime | None = None,
    ) -> Webhook:
        """Store an inbound message and build the signed webhook Twilio would POST to ``url``
        (``whatsapp:+…`` addresses for WhatsApp; ``received_at`` backdates its window)."""
        stored = self.add_inbound(
            from_, to, body, messaging_service_sid=messaging_service_sid, received_at=received_at
        )
        media = list(media_urls)
        params = {
            "ToCountry": "US",
            "SmsMessageSid": stored["sid"],
            "NumMedia": str(len(media)),
            "SmsSid": stored["sid"],
            "SmsStatus": "received",
            "Body": body,
            "To": to,
            "NumSegments": str(segment_count(body)),
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
        with self.account.lock:
            message = self.account.move(sid, status, error_code)
            webhook = self._status_callback(message, status, error_code)
        if webhook is not None and post:
            webhook.response_status = self.callback_transport(webhook)
        return webhook

    def sign(self, url: str, params: Mapping[str, str]) -> Webhook:
        """A webhook to ``url`` with ``params``, signed with this account's auth token."""
        form = dict(params)
        return Webhook(url, form, compute_signature(self.auth_token, url, form))

    def _status_callback(
        self, message: StoredMessage, status: str, error_code: int | None
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
        account = fake.account
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
            status, payload = error(20003)
            payload["detail"] = "Your AccountSid or AuthToken was incorrect."
            account.record(method, parts.path, params, status)
            self._reply(status, payload, {"WWW-Authenticate": 'Basic realm="Twilio API"'})
            return
        match = _MESSAGES_PATH.match(parts.path)
        if match is None or match["account"] != fake.account_sid:
            self._answer(method, parts.path, params, error(20404, details={"path": parts.path}))
            return
        sid = match["sid"]
        if method == "GET" and sid:
            answer = account.fetch_message(match["account"], sid, parts.path)
            self._answer(method, parts.path, params, answer)
        elif method == "GET":
            answer = account.list_messages(match["account"], query, parts.path)
            self._answer(method, parts.path, params, answer)
        elif method == "POST" and not sid:
            self._create(match["account"], parts.path, form)
        else:
            self._answer(method, parts.path, params, error(20404, details={"path": parts.path}))

    def _create(self, account_sid: str, path: str, form: dict[str, str]) -> None:
        fake = self.server.fake
        account = fake.account
        fault = fake.faults.next()
        if fault is not None and fault.kind == "fail":
            status, payload = error(
                fault.code,
                message=fault.message,
                http_status=fault.http_status,
                details=_details(form),
            )
            headers = {}
            if fault.retry_after is not None:
                headers["Retry-After"] = f"{fault.retry_after:g}"
            account.record("POST", path, form, status)
            self._reply(status, payload, headers)
            return
        if fault is not None and not fault.after_create:
            account.record("POST", path, form, None)
            if fault.kind == "delay":
                fake._stopping.wait(fault.seconds)
            self._drop()
            return

        status, payload = account.create_message(account_sid, form)
        if fault is not None and fault.kind == "drop":
            account.record("POST", path, form, None)
            self._drop()
            return
        account.record("POST", path, form, status)
        if fault is not None and fault.kind == "delay":
            fake._stopping.wait(fault.seconds)
        fails_with = account.find(payload["sid"]).fails_with if status == 201 else None
        if fails_with is not None:
            # WhatsApp refuses it after the API took it ("queued" in the answer): failed by
            # the time anyone asks, and its status callback posted once answered.
            account.move(payload["sid"], "failed", fails_with)
        self._reply(status, payload)
        if fails_with is not None:
            with account.lock:
                webhook = fake._status_callback(account.find(payload["sid"]), "failed", fails_with)
            if webhook is not None:
                with contextlib.suppress(OSError):
                    webhook.response_status = fake.callback_transport(webhook)
        elif status == 201 and fake.auto_deliver:
            for step in ("sent", "delivered"):
                with contextlib.suppress(KeyError, OSError):
                    fake.deliver(payload["sid"], step)

    def _answer(
        self, method: str, path: str, params: dict[str, str], result: tuple[int, dict[str, Any]]
    ) -> None:
        status, payload = result
        # recorded before answering, so a client that has its answer sees the record
        self.server.fake.account.record(method, path, params, status)
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
