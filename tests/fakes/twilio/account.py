"""What the fake Twilio account holds (messages, the requests it answered, opt-outs) and
how Twilio's Messages API answers on it: validation, errors, pages, magic numbers."""

from __future__ import annotations

import json
import re
import threading
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from email.utils import format_datetime
from typing import Any
from urllib.parse import urlencode

from sms.segments import segments

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
ERRORS: dict[int, tuple[int, str]] = {
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
    21655: (400, "The ContentSid is Invalid."),
    21656: (400, "The ContentVariables Parameter is invalid."),
    21910: (400, "Invalid From and To pair. From and To should be of the same channel."),
    63016: (
        400,
        "Failed to send freeform message because you are outside the allowed window. If you "
        "want to send messages outside the allowed window, please use a Template.",
    ),
}
WHATSAPP = "whatsapp:"
# WhatsApp allows free-form messages this long after the person's last message.
WHATSAPP_WINDOW = timedelta(hours=24)
_STOP_WORDS = {"STOP", "STOPALL", "UNSUBSCRIBE", "CANCEL", "END", "QUIT"}
_START_WORDS = {"START", "UNSTOP"}
_E164 = re.compile(r"^\+[1-9]\d{7,14}$")

Answer = tuple[int, dict[str, Any]]  # HTTP status, JSON body


@dataclass
class StoredMessage:
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
    content_sid: str | None = None
    content_variables: str | None = None
    # What the carrier will report once the API has accepted it (WhatsApp's 63016).
    fails_with: int | None = None

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
            "content_sid": self.content_sid,
            "content_variables": self.content_variables,
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
            "num_segments": str(segment_count(self.body)),
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


class Account:
    """One Twilio account's messages, the requests made to it and its opted-out numbers;
    safe to use from the server's handler threads and the test at once."""

    def __init__(self, account_sid: str) -> None:
        self.account_sid = account_sid
        self.lock = threading.RLock()
        self.clear()

    def clear(self) -> None:
        with self.lock:
            self.messages: list[StoredMessage] = []
            self.requests: list[RecordedRequest] = []
            self.opted_out: set[str] = set()
            # WhatsApp: each address's last inbound message (its 24-hour window), and the
            # approved templates (Content SID -> body with {{1}} variables).
            self.last_whatsapp: dict[str, datetime] = {}
            self.content: dict[str, str] = {}

    def record(self, method: str, path: str, params: dict[str, str], status: int | None) -> None:
        with self.lock:
            self.requests.append(RecordedRequest(method, path, params, status))

    def find(self, sid: str) -> StoredMessage:
        with self.lock:
            for message in self.messages:
                if message.sid == sid:
                    return message
        raise KeyError(sid)

    def opt_out(self, number: str) -> None:
        with self.lock:
            self.opted_out.add(number)

    def opt_in(self, number: str) -> None:
        with self.lock:
            self.opted_out.discard(number)

    def add_inbound(
        self,
        from_: str,
        to: str,
        body: str,
        *,
        messaging_service_sid: str | None = None,
        received_at: datetime | None = None,
    ) -> StoredMessage:
        """A message a person texted in; Twilio's own STOP/START keywords opt the sender
        out or back in."""
        now = received_at or _now()
        message = StoredMessage(
            sid=new_sid("SM"),
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
        with self.lock:
            self.messages.append(message)
            if from_.startswith(WHATSAPP):
                # Twilio keeps no opt-outs on WhatsApp: the business must.
                self.last_whatsapp[from_] = max(now, self.last_whatsapp.get(from_, now))
            elif keyword in _STOP_WORDS:
                self.opted_out.add(from_)
            elif keyword in _START_WORDS:
                self.opted_out.discard(from_)
        return message

    def move(self, sid: str, status: str, error_code: int | None) -> StoredMessage:
        """A message's delivery moves on to ``status`` (as the carrier reports it)."""
        with self.lock:
            message = self.find(sid)
            message.status = status
            message.date_updated = _now()
            if status in ("sent", "delivered", "undelivered") and message.date_sent is None:
                message.date_sent = message.date_updated
            if error_code is not None:
                message.error_code = error_code
            return message

    # -- the API's answers ---------------------------------------------------------------

    def create_message(self, account: str, form: dict[str, str]) -> Answer:
        """Validate like Twilio and store the message."""
        to = form.get("To", "").strip()
        from_ = form.get("From", "").strip() or None
        service = form.get("MessagingServiceSid", "").strip() or None
        body = form.get("Body", "")
        details = {"to": to, "from": from_ or "", "service": service or ""}
        if not to:
            return error(21604, details=details)
        if not from_ and not service:
            return error(21603, details=details)
        if service and not re.fullmatch(r"MG[0-9a-fA-F]{32}", service):
            return error(21701, details=details)
        if not body and not form.get("MediaUrl") and not form.get("ContentSid"):
            return error(21602, details=details)
        if len(body) > 1600:
            return error(21617, details=details)
        if to in MAGIC_TO_NUMBERS:
            return error(MAGIC_TO_NUMBERS[to], details=details)
        whatsapp = to.startswith(WHATSAPP)
        if not _E164.match(to.removeprefix(WHATSAPP)):
            return error(21211, details=details)
        if from_ and whatsapp != from_.startswith(WHATSAPP):
            return error(21910, details=details)
        content_sid = form.get("ContentSid") or None
        content_variables = form.get("ContentVariables") or None
        if content_sid:
            rendered = self._render_content(content_sid, content_variables)
            if isinstance(rendered, int):
                return error(rendered, details=details)
            body = rendered
        with self.lock:
            if to in self.opted_out:
                return error(21610, details=details)
            # Accepted by the API, then failed: free-form WhatsApp outside the window.
            outside = (
                whatsapp
                and not content_sid
                and _now() - self.last_whatsapp.get(to, datetime.min.replace(tzinfo=UTC))
                >= WHATSAPP_WINDOW
            )
            message = StoredMessage(
                sid=new_sid("SM"),
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
                content_sid=content_sid,
                content_variables=content_variables,
                fails_with=63016 if outside else None,
            )
            self.messages.append(message)
        return 201, message.to_json()

    def _render_content(self, sid: str, variables: str | None) -> str | int:
        """The body of approved template ``sid`` with its variables, or Twilio's error."""
        template = self.content.get(sid)
        if template is None:
            return 21655
        try:
            values = json.loads(variables or "{}")
        except ValueError:
            return 21656
        if not isinstance(values, dict):
            return 21656
        return re.sub(r"\{\{(\d+)\}\}", lambda m: str(values.get(m.group(1), "")), template)

    def list_messages(self, account: str, query: dict[str, str], path: str) -> Answer:
        try:
            page_size = min(max(int(query.get("PageSize", "50")), 1), 1000)
            page = max(int(query.get("Page", "0")), 0)
            sent_on = _parse_date(query.get("DateSent"))
            sent_after = _parse_date(query.get("DateSent>"))
            sent_before = _parse_date(query.get("DateSent<"))
        except ValueError:
            return error(20001, message="Invalid paging or date parameter", http_status=400)
        with self.lock:
            found = [m for m in self.messages if m.account_sid == account]
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

    def fetch_message(self, account: str, sid: str, path: str) -> Answer:
        with self.lock:
            for message in self.messages:
                if message.sid == sid and message.account_sid == account:
                    return 200, message.to_json()
        return error(20404, details={"path": path})


def error(
    code: int,
    *,
    message: str | None = None,
    http_status: int | None = None,
    details: Mapping[str, str] | None = None,
) -> Answer:
    """Twilio's error body: code, message, more_info, status."""
    default_status, template = ERRORS.get(code, (400, f"Error {code}"))
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


def segment_count(body: str) -> int:
    """The segments Twilio reports for a body (an empty one, with media, still counts one)."""
    return max(1, segments(body).count)


def new_sid(prefix: str) -> str:
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
