"""The worker's jobs. Each is ``job(app) -> int`` (how much it did): it opens a unit of work
per step of its work, calls one service in it, and lets the unit commit.

The rules (who is paused, what is flagged, when matching is due) live in the services;
what is here is how the work is cut into transactions: one per received text, one per
expired proposal, steps of a few proposals for a matching run, and on SQLite the pauses
that leave the one write lock to the webhooks while texts keep arriving.
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from collections.abc import Callable

from flask import Flask

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import MatchingRun, utcnow
from mutualaid.services import (
    alerts,
    confirmation,
    conversations,
    escalation,
    expiry,
    handling,
    inbox,
    matching_runs,
    polling,
    retention,
    voice,
)
from mutualaid.services.limits import Limit
from mutualaid.services.sending import OutboxSettings, send_due
from mutualaid.unit_of_work import UnitOfWork, transaction, unit_of_work
from sms.transport import Sender

log = logging.getLogger(__name__)

# Messages claimed at a time: a batch is sent one by one, each with its own lease.
OUTBOX_BATCH_SIZE = 50

#: On SQLite, leave the one write lock free between steps for as long as a step held it
#: (see handle_received). The pause is for the web processes storing texts meanwhile; a
#: test that stores a text and then handles it in the same thread has none to wait for,
#: and turns it off (tests/conftest.py); the end-to-end tests run the real worker with it.
SHARE_SQLITE_WRITE_LOCK = True


def handle_received(app: Flask, *, limit: int = 500, max_seconds: float = 1.0) -> int:
    """Handle received inbound texts, oldest first, one unit of work each (see
    services.handling), until none is ready, ``limit`` were handled, or ``max_seconds``
    passed (so the outbox is not starved). Returns how many were handled or failed.

    On SQLite, while texts keep arriving, the worker waits after each text as long as
    handling it took: the one write lock is free at least half the time for the webhooks
    storing texts (a burst stays fast); once none arrive, it catches up at full speed.

    A text stored but never handled (the worker died mid-way, handling failed) is still
    received: this job finds it again, so nothing is lost."""
    config = app.config
    rate = Limit(config["SMS_RATE_LIMIT"], config["SMS_RATE_WINDOW_SECONDS"])
    sqlite = db.engine.dialect.name == "sqlite"
    started = time.monotonic()
    done = 0
    while done < limit and time.monotonic() - started < max_seconds:
        with unit_of_work() as unit:
            ids = handling.next_batch(unit.session, now=utcnow())
            share = sqlite and SHARE_SQLITE_WRITE_LOCK and _texts_arriving(unit)
            # One context per batch: the places table is read once, not once per text.
            ctx = adapters.sms_context() if ids else None
        if ctx is None:
            break
        before = done
        for message_id in ids[: limit - done]:
            began = time.monotonic()
            with unit_of_work() as unit:
                done += handling.handle_one(
                    unit.session,
                    ctx,
                    message_id,
                    limit=rate,
                    secret=config["SECRET_KEY"],
                    now=utcnow(),
                )
            if share:
                time.sleep(time.monotonic() - began)
            if time.monotonic() - started >= max_seconds:
                break
        if done == before:
            break  # all taken by other workers meanwhile
    return done


_newest_inbound: list[int | None] = [None]


def _texts_arriving(unit: UnitOfWork) -> bool:
    """Whether a text arrived since this process last looked."""
    newest = handling.newest_inbound_id(unit.session)
    arriving = newest != _newest_inbound[0]
    _newest_inbound[0] = newest
    return arriving


def send_outbox(app: Flask, sender: Sender | None = None) -> int:
    """Send one batch of due outbound SMS; the number of messages handled.

    The sender is the app's (adapters.sms_sender); ``sender`` replaces it."""
    settings = OutboxSettings.from_config(app.config, batch_size=OUTBOX_BATCH_SIZE)
    report = send_due(transaction, sender or adapters.sms_sender(), settings)
    if report.claimed:
        log.info(
            "outbox: %d claimed, %d sent, %d already sent, %d to retry, %d unknown, "
            "%d failed, %d suppressed",
            report.claimed,
            report.sent,
            report.found,
            report.retrying,
            report.unknown,
            report.failed,
            report.suppressed,
        )
    return report.handled


def expire_proposals(app: Flask, *, limit: int = 200) -> int:
    """Expire proposals past their time, one unit of work each; a volunteer who let
    PAUSE_AFTER_EXPIRIES expire in a row is paused."""
    now = utcnow()
    with unit_of_work() as unit:
        ids = expiry.overdue(unit.session, now=now, limit=limit)
    done = 0
    for match_id in ids:
        with unit_of_work() as unit:
            done += expiry.expire_overdue(
                unit.session,
                adapters.sms_context(now),
                match_id,
                pause_after=app.config["PAUSE_AFTER_EXPIRIES"],
            )
    return done


def forget_conversations(app: Flask) -> int:
    """Clear the SMS questions past their expiry, with what was typed so far, and what
    callers pressed in calls past theirs; delete the web submissions their number did not
    confirm in time."""
    with unit_of_work() as unit:
        now = utcnow()
        return (
            conversations.forget_expired(unit.session, now=now)
            + confirmation.forget_expired(unit.session, now=now)
            + voice.forget_expired(unit.session, now=now)
        )


def match_if_due(app: Flask) -> int:
    """Run matching every MATCH_INTERVAL_SECONDS, and sooner (debounced) after a request,
    offer or match changed since the last run; how many were proposed. In review mode
    (MATCH_MODE = review) the run only prepares a preview for coordinators to send."""
    review = app.config["MATCH_MODE"] == "review"
    with unit_of_work() as unit:
        due = matching_runs.run_is_due(
            unit.session,
            now=utcnow(),
            interval_seconds=app.config["MATCH_INTERVAL_SECONDS"],
            debounce_seconds=app.config["MATCH_DEBOUNCE_SECONDS"],
            review=review,
        )
    if not due:
        return 0
    if review:
        run_matching(app, trigger=matching_runs.REVIEW, dry_run=True, keep_preview=True)
        return 0
    done = run_matching(app, trigger="schedule")
    return done[0].proposed if done else 0


def run_matching(
    app: Flask,
    *,
    trigger: str,
    dry_run: bool = False,
    only_requests: set[int] | None = None,
    keep_preview: bool = False,
) -> tuple[MatchingRun, matching_runs.Plan] | None:
    """One matching run in one unit of work that commits every few proposals (so a run
    proposing thousands of pairs does not hold SQLite's write lock, and the webhooks, for
    its whole length); None when another run holds the lock."""
    with unit_of_work() as unit:
        if not unit.hold(matching_runs.run_lock(db.engine)):
            return None
        run, plan = matching_runs.run_matching(
            unit.session,
            adapters.sms_context(),
            matching_runs.RunSettings.from_config(app.config),
            trigger=trigger,
            dry_run=dry_run,
            only_requests=only_requests,
            link_for=adapters.proposal_links(),
            checkpoint=None if dry_run else _sharing_the_write_lock(unit),
            keep_preview=keep_preview,
        )
    log.info(
        "matching run (%s): %d requests, %d volunteers, %d proposed, %d unmatched, %.3f s",
        trigger,
        run.requests_considered,
        run.volunteers_considered,
        run.proposed,
        run.unmatched,
        run.solve_seconds,
    )
    return run, plan


def _sharing_the_write_lock(unit: UnitOfWork) -> Callable[[], None]:
    """A step commit that, on SQLite, then leaves the write lock free for as long as the
    step held it (as handle_received does between texts)."""
    sqlite = db.engine.dialect.name == "sqlite" and SHARE_SQLITE_WRITE_LOCK
    began = [time.monotonic()]

    def commit_step() -> None:
        unit.commit_step()
        if sqlite:
            time.sleep(time.monotonic() - began[0])
        began[0] = time.monotonic()

    return commit_step


def escalate(app: Flask, *, limit: int = 500) -> int:
    """Flag for coordinators the requests open too long or refused too often, and send the
    waiting requester an honest update at most once per STILL_LOOKING_HOURS."""
    with unit_of_work() as unit:
        return escalation.escalate(
            unit.session,
            adapters.sms_context(),
            escalation.EscalationSettings.from_config(app.config),
            limit=limit,
        )


def purge_expired(app: Flask) -> int:
    """The retention job (the worker runs it a few times a day; it is idempotent)."""
    with unit_of_work() as unit:
        report = retention.purge(
            unit.session,
            now=utcnow(),
            retention=dt.timedelta(days=app.config["RETENTION_DAYS"]),
        )
    return report.requests + report.people


def recover_inbound(
    app: Flask, *, since: dt.timedelta = dt.timedelta(hours=1), sender: Sender | None = None
) -> int:
    """Import the texts Twilio received that we never stored (the service was down, or a
    webhook was lost), then handle them. Only the Twilio backend can be asked; otherwise
    it does nothing."""
    if sender is None:
        if app.config["SMS_BACKEND"] != "twilio":
            return 0
        sender = adapters.sms_sender()
    with unit_of_work() as unit:
        new_ids = inbox.recover_missed(
            unit.session,
            sender,
            to=app.config["TWILIO_FROM"] or None,
            since=utcnow() - since,
            region=app.config["PHONE_REGION"],
            max_body=app.config["SMS_MAX_BODY"],
        )
    if new_ids:
        log.warning("recovered %d inbound messages the webhook never delivered", len(new_ids))
        # They are older than anything received since: handled first, in their order.
        handle_received(app, limit=len(new_ids), max_seconds=float("inf"))
    return len(new_ids)


_checks = polling.Checks.new()
_last_poll: list[float] = [float("-inf")]


def poll_twilio(app: Flask, *, sender: Sender | None = None, force: bool = False) -> int:
    """In poll mode (INBOUND_MODE = "poll"), every TWILIO_POLL_SECONDS: store the texts
    Twilio received that we do not have yet (handle_received then handles them as it does
    a webhook's), and apply the delivery status of the texts we sent. Otherwise nothing.
    How many texts arrived and statuses moved."""
    config = app.config
    if config["INBOUND_MODE"] != "poll":
        return 0
    now_mono = time.monotonic()
    if not force and now_mono - _last_poll[0] < config["TWILIO_POLL_SECONDS"]:
        return 0
    _last_poll[0] = now_mono
    poller = sender or adapters.sms_sender()
    with unit_of_work() as unit:
        new_ids = polling.poll_inbound(
            unit.session,
            poller,  # type: ignore[arg-type]
            to=config["TWILIO_FROM"] or None,
            now=utcnow(),
            region=config["PHONE_REGION"],
            max_body=config["SMS_MAX_BODY"],
        )
    with unit_of_work() as unit:
        moved = polling.poll_sent(unit.session, poller, _checks, now=utcnow())  # type: ignore[arg-type]
    if new_ids:
        log.info("poll: %d new texts from Twilio", len(new_ids))
    return len(new_ids) + moved


def notify_coordinators(app: Flask) -> int:
    """Tell the on-duty coordinators what is waiting (services.alerts): the backlog checked,
    then one digest by e-mail and webhook, sent after the reading transaction ended; with
    notifications off, waiting alerts are let go. How many alerts were sent."""
    settings = alerts.Settings.from_config(app.config)
    now = utcnow()
    with unit_of_work() as unit:
        alerts.check_backlog(unit.session, settings, now=now)
        if not settings.enabled:
            alerts.let_go(unit.session, now=now)
            return 0
        digest = alerts.waiting(unit.session, settings, now=now, base_url=adapters.public_url())
    if digest is None:
        return 0
    delivered = adapters.deliver_alerts(app.config, digest.subject, digest.text())
    with unit_of_work() as unit:
        if delivered:
            alerts.mark_sent(unit.session, digest.ids, now=now)
        else:
            alerts.mark_failed(unit.session, digest.ids)
    log.info("alerts: %d %s", len(digest.ids), "sent" if delivered else "not sent, will retry")
    return len(digest.ids) if delivered else 0
