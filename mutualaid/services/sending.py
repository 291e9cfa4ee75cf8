"""The outbox's send loop: claim due messages, send each through the Sender, record the
outcome — with no database transaction open while the provider is called.

``transaction`` is the boundary's unit of work: a context manager that yields a session
and commits when the block ends (rolls back on an exception). The loop opens one per step
and reads nothing from the database between them, so the network waits never hold a
lock (on SQLite every transaction is the one writer).

Per message:

1. ``start_attempt``: still ours? person still reachable (else ``suppressed``)? renew the
   lease so it covers this one send.
2. A message taken over from an expired lease after its send attempt had started may
   already be at the provider: when the sender can list the provider's messages (Twilio),
   look for one to the same number with the same body since it was queued (and not
   recorded for another row), and record that instead of sending again. The console and
   fake senders cannot be asked: such a message is treated as unsent and sent again (at
   most one duplicate per worker death). Rows only claimed when a worker died are sent
   without asking.
3. Send; record ``sent``, or the error (services.outbox.record_send_error). After a read
   timeout the message may exist: ask the provider at once; if it is not listed yet the
   row stays ``sending`` and step 2 decides after the lease.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol, runtime_checkable

from sqlalchemy.orm import Session

from mutualaid.models import MessageStatus, utcnow
from mutualaid.services import outbox
from sms.transport import ProviderMessage, Sender, SendError
from sms.whatsapp import address

log = logging.getLogger(__name__)

S = MessageStatus
Transaction = Callable[[], AbstractContextManager[Session]]
Clock = Callable[[], dt.datetime]

# Twilio's dates have whole seconds and its clock is not ours: look a little further back.
CLOCK_SKEW = dt.timedelta(minutes=2)


@runtime_checkable
class MessageFinder(Protocol):
    """A sender that can list what the provider already has (TwilioSender)."""

    def find_messages(
        self, to: str, *, created_after: dt.datetime | None = None, limit: int = 50
    ) -> list[ProviderMessage]: ...


@dataclass(frozen=True, slots=True)
class OutboxSettings:
    max_attempts: int = 8
    retry_seconds: float = 5.0
    lease_seconds: float = 60.0
    public_base_url: str = ""
    batch_size: int = 50

    @classmethod
    def from_config(cls, config: Mapping[str, Any], *, batch_size: int = 50) -> OutboxSettings:
        return cls(
            max_attempts=int(config["OUTBOX_MAX_ATTEMPTS"]),
            retry_seconds=float(config["OUTBOX_RETRY_SECONDS"]),
            lease_seconds=float(config["OUTBOX_LEASE_SECONDS"]),
            # Polled for their status instead: nobody could call a callback back.
            public_base_url=""
            if config.get("INBOUND_MODE") == "poll"
            else str(config.get("PUBLIC_BASE_URL") or ""),
            batch_size=batch_size,
        )

    def status_callback(self, message_id: int) -> str | None:
        """``{PUBLIC_BASE_URL}/sms/status?m=<id>``, or None without a public address (or in
        poll mode, where the worker asks for the status instead)."""
        if not self.public_base_url:
            return None
        return f"{self.public_base_url}/sms/status?m={message_id}"


@dataclass(frozen=True, slots=True)
class Outgoing:
    """A claimed message, copied out of the session so that nothing between transactions
    touches expired ORM state (which would silently begin a transaction)."""

    id: int
    phone: str
    body: str
    template: str | None  # its catalogue key: what a log may say instead of the body
    attempts: int
    created_at: dt.datetime
    lease_until: dt.datetime
    maybe_sent: bool  # taken over after a send attempt had started: ask before resending
    channel: str = "sms"
    content_sid: str | None = None  # a WhatsApp template, sent instead of the body
    content_variables: str | None = None

    @property
    def to(self) -> str:
        """Where the provider sends it: the number, or ``whatsapp:`` and the number."""
        return address(self.channel, self.phone)


@dataclass
class SendReport:
    """What one pass did, by outcome."""

    claimed: int = 0
    sent: int = 0
    found: int = 0  # already at the provider: recorded, not resent
    retrying: int = 0
    unknown: int = 0  # maybe sent: left for reconciliation after the lease
    failed: int = 0
    suppressed: int = 0
    lost: int = 0  # taken over by another worker meanwhile

    @property
    def handled(self) -> int:
        return self.claimed


def send_due(
    transaction: Transaction,
    sender: Sender,
    settings: OutboxSettings,
    *,
    clock: Clock = utcnow,
    rng: random.Random | None = None,
) -> SendReport:
    """Claim one batch of due messages (committed), then send them one by one."""
    with transaction() as session:
        batch = outbox.claim_batch(
            session,
            now=clock(),
            limit=settings.batch_size,
            lease_seconds=settings.lease_seconds,
        )
        claimed = [
            Outgoing(
                id=m.id,
                phone=m.phone,
                body=m.body,
                template=m.template,
                attempts=m.attempts,
                created_at=m.created_at,
                lease_until=m.lease_until or clock(),
                maybe_sent=m.id in batch.maybe_sent_ids,
                channel=m.channel,
                content_sid=m.content_sid,
                content_variables=m.content_variables,
            )
            for m in batch
        ]
    if claimed:
        log.info(
            "outbox: claimed %d (%d after an expired lease, %d of them maybe sent)",
            len(claimed),
            len(batch.reclaimed_ids),
            len(batch.maybe_sent_ids),
        )
    return send_claimed(transaction, sender, claimed, settings, clock=clock, rng=rng)


def send_claimed(
    transaction: Transaction,
    sender: Sender,
    claimed: Sequence[Outgoing],
    settings: OutboxSettings,
    *,
    clock: Clock = utcnow,
    rng: random.Random | None = None,
) -> SendReport:
    """Send each claimed message and record its outcome in its own short transaction."""
    loop = _SendLoop(transaction, sender, settings, clock, rng, SendReport(claimed=len(claimed)))
    for item in claimed:
        try:
            loop.send_one(item)
        except Exception:
            # As if this worker had died here: the lease expires and the message is
            # reconciled before any resend. The rest of the batch goes on.
            log.exception("outbox: sending message %s failed unexpectedly", item.id)
            loop.report.unknown += 1
    return loop.report


@dataclass
class _SendLoop:
    transaction: Transaction
    sender: Sender
    settings: OutboxSettings
    clock: Clock
    rng: random.Random | None
    report: SendReport

    @property
    def finder(self) -> MessageFinder | None:
        return self.sender if isinstance(self.sender, MessageFinder) else None

    def send_one(self, item: Outgoing) -> None:
        report = self.report
        with self.transaction() as session:
            state, lease = outbox.start_attempt(
                session,
                item.id,
                lease_until=item.lease_until,
                now=self.clock(),
                lease_seconds=self.settings.lease_seconds,
            )
        if state is S.SUPPRESSED:
            report.suppressed += 1
            return
        if lease is None:
            report.lost += 1
            return
        if item.maybe_sent and self.finder is not None:
            try:
                found = self.reconcile(item, since=item.created_at - CLOCK_SKEW)
            except SendError as exc:
                # Cannot tell whether it was sent: leave it to the next lease expiry.
                log.warning("outbox: message %s: cannot reconcile (error %s)", item.id, exc.code)
                report.unknown += 1
                return
            if found:
                log.info("outbox: message %s was already sent (%s); not resent", item.id, found)
                report.found += 1
                return
        if item.attempts > self.settings.max_attempts:
            # Only a message whose fate stayed unknown gets here (claims count attempts).
            with self.transaction() as session:
                outbox.give_up(
                    session,
                    item.id,
                    lease_until=lease,
                    reason=f"not sent after {self.settings.max_attempts} attempts",
                )
            report.failed += 1
            return

        started = self.clock()
        callback = self.settings.status_callback(item.id)
        # Only a WhatsApp template passes more than an SMS does (any Sender sends an SMS).
        template = (
            {"content_sid": item.content_sid, "content_variables": item.content_variables}
            if item.content_sid
            else {}
        )
        try:
            result = self.sender.send(
                item.to, item.body, status_callback=callback, label=item.template, **template
            )
        except SendError as error:
            self.record_error(item, lease, error, started)
            return
        with self.transaction() as session:
            recorded = outbox.record_sent(
                session, item.id, provider_sid=result.provider_id, now=self.clock()
            )
        report.sent += 1
        log.debug("outbox: message %s sent as %s", item.id, result.provider_id)
        if not recorded:
            # A delivery callback recorded it first (fine), or another worker took the row
            # over after our lease expired (it reconciles with the provider before sending).
            log.info("outbox: message %s was recorded by someone else first", item.id)

    def reconcile(self, item: Outgoing, *, since: dt.datetime) -> str | None:
        """Ask the provider for this message; record and return its sid when found."""
        assert self.finder is not None
        candidates = _provider_copies(self.finder, item, since=since)
        if not candidates:
            return None
        with self.transaction() as session:
            return outbox.record_found(session, item.id, candidates, now=self.clock())

    def reconcile_after_error(self, item: Outgoing, *, since: dt.datetime) -> str | None:
        """`reconcile` right after a send that may have reached the provider, asked twice
        if the first lookup fails (it meets the same network blip as the send, or a
        provider slow to answer): found, the message is recorded now and not left
        "maybe sent" until its lease ends. None if not found or it cannot be asked."""
        for attempt in range(2):
            try:
                return self.reconcile(item, since=since)
            except SendError as exc:
                log.info(
                    "outbox: message %s: cannot look it up (error %s)%s",
                    item.id,
                    exc.code,
                    "; asking again" if attempt == 0 else "; left for after its lease",
                )
        return None

    def record_error(
        self, item: Outgoing, lease: dt.datetime, error: SendError, started: dt.datetime
    ) -> None:
        report = self.report
        if error.maybe_sent and not error.permanent and self.finder is not None:
            found = self.reconcile_after_error(item, since=started - CLOCK_SKEW)
            if found:
                report.found += 1
                return
        with self.transaction() as session:
            status = outbox.record_send_error(
                session,
                item.id,
                error,
                lease_until=lease,
                now=self.clock(),
                max_attempts=self.settings.max_attempts,
                retry_seconds=self.settings.retry_seconds,
                rng=self.rng,
            )
        if status is S.QUEUED:
            report.retrying += 1
        elif status is S.FAILED:
            report.failed += 1
        elif status is S.SENDING:
            report.unknown += 1
        else:
            report.lost += 1
        log.log(
            logging.WARNING if status is S.FAILED else logging.INFO,
            "outbox: message %s attempt %s: error %s%s -> %s",
            item.id,
            item.attempts,
            error.code,
            " (maybe sent)" if error.maybe_sent else "",
            status.value if status else "taken over",
        )


def _provider_copies(finder: MessageFinder, item: Outgoing, *, since: dt.datetime) -> list[str]:
    """Sids of outbound messages the provider has to this number with this body, oldest
    first (the first one created is the one to keep). A WhatsApp template's body is the
    approved wording, not ours: it is not found, and is sent again (at most once per
    worker death)."""
    found = finder.find_messages(item.to, created_after=since)
    same = [
        m
        for m in found
        if m.body is not None
        and m.body == item.body
        and m.to == item.to
        and (m.direction or "outbound").startswith("outbound")
    ]
    never = dt.datetime.max.replace(tzinfo=dt.UTC)
    same.sort(key=lambda m: m.date_created or never)
    return [m.sid for m in same]
