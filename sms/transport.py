"""Sending SMS and WhatsApp texts: the Sender protocol, its Twilio, console and fake
senders, and error classes."""

from __future__ import annotations

import json
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any, Protocol, TextIO, runtime_checkable

import requests
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.rest import Client
from urllib3.exceptions import (
    ConnectTimeoutError,
    MaxRetryError,
    NewConnectionError,
)

from sms.phones import mask
from sms.segments import segments
from sms.twilio_http import RedirectingHttpClient
from sms.whatsapp import address, split_address

__all__ = [
    "OPTED_OUT_ERROR_CODES",
    "PERMANENT_ERROR_CODES",
    "TRANSIENT_ERROR_CODES",
    "ConsoleSender",
    "FakeSender",
    "ProviderMessage",
    "SendError",
    "SendResult",
    "Sender",
    "SentMessage",
    "TwilioSender",
    "is_opt_out_error",
    "is_permanent_error",
    "make_sender",
]

# Twilio error codes that mean "stop sending to this number" (REST errors on create,
# or ErrorCode on an undelivered status callback).
OPTED_OUT_ERROR_CODES = frozenset({21610})  # the recipient texted STOP
PERMANENT_ERROR_CODES = frozenset(
    {
        21211,  # invalid 'To' phone number
        21217,  # phone number does not appear to be valid
        21401,  # invalid phone number
        21407,  # this phone number type does not support SMS
        21408,  # sending to this region is not enabled
        21610,  # unsubscribed recipient
        21612,  # 'To' number not reachable via SMS (unroutable)
        21614,  # 'To' number is not a mobile number
        30004,  # message blocked (by the recipient or their carrier)
        30005,  # unknown destination handset
        30006,  # landline or unreachable carrier
    }
)
# Worth trying again later, the same message to the same number.
TRANSIENT_ERROR_CODES = frozenset(
    {
        20429,  # too many requests
        30001,  # queue overflow
        30003,  # unreachable destination handset (off, no signal)
        30008,  # unknown error
        30017,  # carrier network congestion
    }
)


def is_permanent_error(code: int | None) -> bool:
    """True when a Twilio error code means nothing more should be sent to that number."""
    return code in PERMANENT_ERROR_CODES


def is_opt_out_error(code: int | None) -> bool:
    """True when a Twilio error code means the person opted out (treat as STOP)."""
    return code in OPTED_OUT_ERROR_CODES


@dataclass(frozen=True, slots=True)
class SendResult:
    """What the provider said when it accepted a message."""

    provider_id: str
    status: str  # as the provider reports it: "queued", "accepted", "sent"...


class SendError(Exception):
    """A message was not (known to be) accepted by the provider.

    How to react, in order:

    - ``permanent``: stop sending to this number (``opted_out``: treat as STOP).
    - ``maybe_sent``: the request may have reached the provider (read timeout,
      connection dropped after sending, a 5xx that may come after processing). Do
      not resend blindly: look the message up first (``TwilioSender.find_messages``).
    - ``retryable``: the same send may succeed later; wait at least ``retry_after``
      seconds when given.
    - otherwise the request itself is wrong (missing body, bad sender, ...): retrying
      gives the same answer.
    """

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        http_status: int | None = None,
        permanent: bool = False,
        opted_out: bool = False,
        retryable: bool = False,
        retry_after: float | None = None,
        maybe_sent: bool = False,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code  # Twilio error code, else the HTTP status, else None
        self.http_status = http_status
        self.permanent = permanent or opted_out
        self.opted_out = opted_out
        self.retryable = retryable and not self.permanent
        self.retry_after = retry_after
        self.maybe_sent = maybe_sent

    @classmethod
    def from_code(
        cls,
        code: int,
        message: str = "",
        *,
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> SendError:
        """Classify a Twilio error code (and HTTP status) with the tables above."""
        status = http_status if http_status is not None else (code if code < 600 else None)
        retryable = (
            code in TRANSIENT_ERROR_CODES
            or status == 429
            # a credentials problem is the operator's to fix; keep the message until then
            or status == 401
            or (status is not None and status >= 500)
        )
        return cls(
            message or f"Twilio error {code}",
            code=code,
            http_status=status,
            permanent=is_permanent_error(code),
            opted_out=is_opt_out_error(code),
            retryable=retryable,
            retry_after=retry_after,
            # 500/502/504 may come from a gateway after Twilio created the message;
            # 503 and 4xx mean it was turned away.
            maybe_sent=status in (500, 502, 504),
        )

    def __repr__(self) -> str:
        flags = [
            name
            for name in ("permanent", "opted_out", "retryable", "maybe_sent")
            if getattr(self, name)
        ]
        return f"SendError(code={self.code!r}, message={self.message!r}, flags={flags})"


@runtime_checkable
class Sender(Protocol):
    """Anything that can send one text. Implementations raise :class:`SendError`."""

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        label: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> SendResult:
        """Send ``body`` to ``to`` (a phone number, or ``whatsapp:+…``). ``label`` says
        what the message is (its template key), for a log line that must not hold the
        body. ``content_sid`` sends an approved template instead of ``body`` (WhatsApp
        outside its 24-hour window), with ``content_variables`` as JSON."""
        ...

    def close(self) -> None: ...


@dataclass(frozen=True, slots=True)
class SentMessage:
    """A message recorded by the console and fake senders."""

    to: str
    body: str
    provider_id: str
    status_callback: str | None = None
    content_sid: str | None = None


@dataclass(frozen=True, slots=True)
class ProviderMessage:
    """A message as the provider lists it (for reconciliation and importing inbound texts)."""

    sid: str
    to: str | None
    from_: str | None
    body: str | None
    status: str | None
    direction: str | None
    date_created: datetime | None
    date_sent: datetime | None
    error_code: int | None
    messaging_service_sid: str | None = None


class TwilioSender:
    """Sends through Twilio's Messages API with the real ``twilio`` client.

    Exactly one of ``from_number`` and ``messaging_service_sid`` is required.
    ``whatsapp_from`` is the WhatsApp sender's number, for texts to ``whatsapp:+…``
    (without it they go through the Messaging Service, which must then hold a WhatsApp
    sender). ``api_base_url`` sends the REST calls elsewhere (a local fake, a compatible
    gateway). Timeouts are explicit: the library has none by default. Holds a
    connection pool: call :meth:`close` (or use ``with``) when done. One instance
    per worker thread is the safe choice.
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        *,
        from_number: str | None = None,
        messaging_service_sid: str | None = None,
        whatsapp_from: str | None = None,
        api_base_url: str | None = None,
        connect_timeout: float = 5,
        read_timeout: float = 10,
    ) -> None:
        if not account_sid or not auth_token:
            raise ValueError("account_sid and auth_token are required")
        if bool(from_number) == bool(messaging_service_sid):
            raise ValueError("give exactly one of from_number and messaging_service_sid")
        self.account_sid = account_sid
        self.from_number = from_number or None
        self.messaging_service_sid = messaging_service_sid or None
        self.whatsapp_from = whatsapp_from or None
        self.http_client = RedirectingHttpClient(
            api_base_url=api_base_url,
            connect_timeout=connect_timeout,
            read_timeout=read_timeout,
        )
        self.client = Client(account_sid, auth_token, http_client=self.http_client)

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        label: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> SendResult:
        params: dict[str, Any] = {"to": to}
        if content_sid:
            params["content_sid"] = content_sid
            params["content_variables"] = content_variables or "{}"
        else:
            params["body"] = body
        if split_address(to)[0] == "whatsapp" and self.whatsapp_from:
            params["from_"] = address("whatsapp", self.whatsapp_from)
        elif self.messaging_service_sid:
            params["messaging_service_sid"] = self.messaging_service_sid
        elif split_address(to)[0] == "whatsapp":
            raise SendError("no WhatsApp sender configured (WHATSAPP_FROM)")
        else:
            params["from_"] = self.from_number
        if status_callback:
            params["status_callback"] = status_callback
        try:
            message = self.client.messages.create(**params)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._rest_error(exc) from exc
        except requests.RequestException as exc:
            raise _network_error(exc) from exc
        except json.JSONDecodeError as exc:
            # a success status with a body we cannot read: it was probably created
            raise SendError(
                f"unreadable response from Twilio: {exc}", retryable=True, maybe_sent=True
            ) from exc
        return SendResult(provider_id=str(message.sid), status=str(message.status))

    def find_messages(
        self, to: str, *, created_after: datetime | None = None, limit: int = 50
    ) -> list[ProviderMessage]:
        """Recent messages to ``to`` created at or after ``created_after``, newest first.

        For deciding whether a ``maybe_sent`` message exists before resending: compare
        bodies. Twilio's date filter applies to the *sent* date, which a queued message
        lacks, so the creation time is checked here instead.
        """
        found = self.list_messages(to=to, limit=limit)
        if created_after is None:
            return found
        since = created_after.replace(microsecond=0)  # Twilio's dates have whole seconds
        return [m for m in found if m.date_created is None or m.date_created >= since]

    def list_messages(
        self,
        *,
        to: str | None = None,
        from_: str | None = None,
        date_sent_after: datetime | None = None,
        limit: int | None = None,
        page_size: int | None = None,
    ) -> list[ProviderMessage]:
        """Messages from Twilio's list endpoint (both directions), following its pages."""
        filters: dict[str, Any] = {}
        if to:
            filters["to"] = to
        if from_:
            filters["from_"] = from_
        if date_sent_after:
            filters["date_sent_after"] = date_sent_after
        try:
            records = self.client.messages.list(limit=limit, page_size=page_size, **filters)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._rest_error(exc) from exc
        except requests.RequestException as exc:
            raise _network_error(exc) from exc
        return [_provider_message(record) for record in records]

    def fetch_message(self, sid: str) -> ProviderMessage:
        """One message by its sid, as the provider has it now (its delivery status)."""
        try:
            record = self.client.messages(sid).fetch()
        except (TwilioRestException, TwilioServiceException) as exc:
            raise self._rest_error(exc) from exc
        except requests.RequestException as exc:
            raise _network_error(exc) from exc
        return _provider_message(record)

    def close(self) -> None:
        self.http_client.close()

    def __enter__(self) -> TwilioSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def _rest_error(self, exc: TwilioRestException | TwilioServiceException) -> SendError:
        status = int(exc.status)
        code = int(exc.code) if exc.code is not None else status
        is_problem = isinstance(exc, TwilioServiceException)
        text = (exc.detail or exc.title) if is_problem else str(exc.msg)
        retry_after = _parse_retry_after(self.http_client.last_response_headers())
        return SendError.from_code(code, text, http_status=status, retry_after=retry_after)


def _network_error(exc: requests.RequestException) -> SendError:
    """Classify a failure below HTTP: did the request possibly reach Twilio?"""
    text = f"{type(exc).__name__}: {exc}"
    if isinstance(exc, requests.ConnectTimeout | requests.exceptions.SSLError):
        return SendError(text, retryable=True, maybe_sent=False)
    if isinstance(exc, requests.exceptions.ProxyError):
        return SendError(text, retryable=True, maybe_sent=False)
    if isinstance(exc, requests.ReadTimeout):
        return SendError(text, retryable=True, maybe_sent=True)
    if isinstance(exc, requests.ConnectionError):
        reason = exc.args[0] if exc.args else None
        if isinstance(reason, MaxRetryError):
            reason = reason.reason
        # refused, unresolvable, no route: the request never left
        connect_failed = isinstance(reason, NewConnectionError | ConnectTimeoutError)
        return SendError(text, retryable=True, maybe_sent=not connect_failed)
    # anything else (invalid URL, too many redirects...): a setup problem; assume the worst
    return SendError(text, retryable=False, maybe_sent=True)


def _parse_retry_after(headers: Mapping[str, str]) -> float | None:
    value = None
    for key, header in headers.items():
        if key.lower() == "retry-after":
            value = header.strip()
            break
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _provider_message(record: Any) -> ProviderMessage:
    error_code = getattr(record, "error_code", None)
    return ProviderMessage(
        sid=str(record.sid),
        to=record.to,
        from_=record.from_,
        body=record.body,
        status=None if record.status is None else str(record.status),
        direction=None if record.direction is None else str(record.direction),
        date_created=record.date_created,
        date_sent=record.date_sent,
        error_code=int(error_code) if error_code is not None else None,
        messaging_service_sid=record.messaging_service_sid,
    )


class ConsoleSender:
    """Development sender: prints each message as a readable block and records it.

    With ``show_bodies=False`` (any deployment but development: console output ends up
    in logs) it prints what each message was — its label (template key), segments and
    encoding — and never its body, which may hold an address or a working link."""

    def __init__(self, stream: TextIO | None = None, *, show_bodies: bool = True) -> None:
        self.stream = stream
        self.show_bodies = show_bodies
        self.sent: list[SentMessage] = []
        self._lock = threading.Lock()

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        label: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> SendResult:
        with self._lock:
            provider_id = f"CONSOLE-{len(self.sent) + 1}"
            self.sent.append(SentMessage(to, body, provider_id, status_callback, content_sid))
            stream = self.stream if self.stream is not None else sys.stdout
            channel, number = split_address(to)
            kind = "WhatsApp" if channel == "whatsapp" else "SMS"
            # The recipient is masked: console output ends up in logs.
            if self.show_bodies:
                head = f"--- {kind} to {mask(number)} ({provider_id}, {len(body)} chars) ---"
                block = f"{head}\n{body}\n---\n"
            else:
                parts = segments(body)
                plural = "" if parts.count == 1 else "s"
                block = (
                    f"--- {kind} to {mask(number)} ({provider_id}): {label or 'message'}, "
                    f"{parts.count} segment{plural} ({parts.encoding}) ---\n"
                )
            try:
                stream.write(block)
            except UnicodeEncodeError:  # a non-UTF-8 console must not stop the worker
                stream.write(block.encode("ascii", "backslashreplace").decode("ascii"))
            stream.flush()
        return SendResult(provider_id=provider_id, status="sent")

    def close(self) -> None:
        pass


@dataclass
class _ScheduledFailure:
    error: SendError
    times: int


class FakeSender:
    """Test sender: records messages in memory and fails when told to."""

    def __init__(self) -> None:
        self.sent: list[SentMessage] = []
        self.attempts = 0
        self._failures: list[_ScheduledFailure] = []
        self._failing_numbers: dict[str, SendError] = {}
        self._lock = threading.Lock()

    def fail_next(self, error: SendError, times: int = 1) -> None:
        """Make the next ``times`` sends raise ``error`` (after any failures already queued)."""
        if times < 1:
            raise ValueError("times must be >= 1")
        with self._lock:
            self._failures.append(_ScheduledFailure(error, times))

    def fail_for(self, number: str, error: SendError) -> None:
        """Make every send to ``number`` raise ``error`` (an opted-out or invalid number)."""
        with self._lock:
            self._failing_numbers[number] = error

    def send(
        self,
        to: str,
        body: str,
        *,
        status_callback: str | None = None,
        label: str | None = None,
        content_sid: str | None = None,
        content_variables: str | None = None,
    ) -> SendResult:
        with self._lock:
            self.attempts += 1
            if self._failures:
                failure = self._failures[0]
                failure.times -= 1
                if failure.times == 0:
                    self._failures.pop(0)
                raise failure.error
            if to in self._failing_numbers:
                raise self._failing_numbers[to]
            provider_id = f"FAKE-{len(self.sent) + 1}"
            self.sent.append(SentMessage(to, body, provider_id, status_callback, content_sid))
        return SendResult(provider_id=provider_id, status="queued")

    def messages_to(self, number: str) -> list[SentMessage]:
        return [message for message in self.sent if message.to == number]

    def close(self) -> None:
        pass


_TWILIO_SETTINGS = frozenset(
    {
        "account_sid",
        "auth_token",
        "from_number",
        "messaging_service_sid",
        "whatsapp_from",
        "api_base_url",
        "connect_timeout",
        "read_timeout",
    }
)


def make_sender(backend: str, **settings: Any) -> Sender:
    """Build the sender named by ``backend``: ``"console"``, ``"twilio"`` or ``"fake"``.

    Twilio settings (``account_sid``, ``auth_token``, ``from_number`` or
    ``messaging_service_sid``, ``api_base_url``, timeouts) may always be passed; the
    console and fake senders ignore them. ``stream`` goes to the console sender.
    Unknown settings are an error, so a misspelt name is not silently dropped.
    """
    name = backend.strip().lower()
    unknown = set(settings) - _TWILIO_SETTINGS - {"stream", "show_bodies"}
    if unknown:
        raise TypeError(f"unknown sender settings: {', '.join(sorted(unknown))}")
    if name == "console":
        return ConsoleSender(
            stream=settings.get("stream"), show_bodies=settings.get("show_bodies", True)
        )
    if name == "fake":
        return FakeSender()
    if name == "twilio":
        given = {k: v for k, v in settings.items() if k in _TWILIO_SETTINGS and v is not None}
        missing = {"account_sid", "auth_token"} - set(given)
        if missing:
            raise ValueError(f"twilio sender needs {', '.join(sorted(missing))}")
        account_sid = given.pop("account_sid")
        auth_token = given.pop("auth_token")
        return TwilioSender(account_sid, auth_token, **given)
    raise ValueError(f"unknown SMS backend {backend!r} (expected console, twilio or fake)")
