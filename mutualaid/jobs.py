"""Background jobs of the match lifecycle, run by the worker (and some by the CLI).

Each job takes the app, does a bounded amount of work in short transactions, commits,
and returns how much it did.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import logging
import time
from collections.abc import Callable, Iterator

from flask import Flask
from sqlalchemy import Engine, func, select, text

from mutualaid.db import READ_ONLY
from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    Match,
    MatchingRun,
    MatchStatus,
    Message,
    MessageDirection,
    Offer,
    RequestStatus,
    utcnow,
)
from mutualaid.services import handling, lifecycle, matching_runs
from mutualaid.services.audit import Actor, record
from mutualaid.services.limits import Limit
from mutualaid.services.links import proposal_link
from mutualaid.services.notify import SmsContext, build_sms_context, say

log = logging.getLogger(__name__)


def sms_context(app: Flask, now: dt.datetime | None = None) -> SmsContext:
    ext = app.extensions
    if "geocoder" not in ext:
        from mutualaid.services.location import build_geocoder

        ext["geocoder"] = build_geocoder(app.config)
    return build_sms_context(
        app.config,
        db.session,
        keywords=ext["sms_keywords"],
        catalogue=ext["sms_catalogue"],
        categories=ext["categories"],
        geocoder=ext["geocoder"],
        now=now or utcnow(),
    )


@contextlib.contextmanager
def _run_lock(engine: Engine) -> Iterator[bool]:
    """Serialise matching runs across processes without holding a transaction open: a
    session-level advisory lock on a connection of its own (PostgreSQL). On SQLite,
    BEGIN IMMEDIATE makes every write phase the only writer, and each proposal is a
    conditional write, so two overlapping runs cannot double-propose."""
    if engine.dialect.name != "postgresql":
        yield True
        return
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        got = bool(
            conn.scalar(text("SELECT pg_try_advisory_lock(:k)"), {"k": matching_runs.PG_RUN_LOCK})
        )
        try:
            yield got
        finally:
            if got:
                conn.execute(
                    text("SELECT pg_advisory_unlock(:k)"), {"k": matching_runs.PG_RUN_LOCK}
                )


def run_matching(
    app: Flask,
    *,
    trigger: str,
    triggered_by: int | None = None,
    dry_run: bool = False,
    only_requests: set[int] | None = None,
) -> tuple[MatchingRun, matching_runs.Plan] | None:
    """One matching run; None when another run holds the lock."""
    settings = matching_runs.RunSettings.from_config(app.config)
    with _run_lock(db.engine) as got:
        if not got:
            return None
        started_at = utcnow()
        if not db.session().in_transaction():
            # Only reads: on SQLite, without holding the write lock (webhooks keep storing).
            db.session.connection(execution_options=READ_ONLY)
        snapshot = matching_runs.take_snapshot(
            db.session,
            categories=app.extensions["categories"],
            settings=settings,
            now=started_at,
            only_requests=only_requests,
        )
        db.session.rollback()  # no transaction is held open during the solve
        plan = matching_runs.solve(snapshot, settings)
        ctx = sms_context(app)
        secret, base = app.config["SECRET_KEY"], app.config["PUBLIC_BASE_URL"]
        run = matching_runs.apply_plan(
            db.session,
            ctx,
            plan,
            trigger=trigger,
            triggered_by=triggered_by,
            dry_run=dry_run,
            started_at=started_at,
            link_for=lambda match: proposal_link(base, secret, match),
            checkpoint=None if dry_run else _sharing_commit(),
        )
        run.finished_at = utcnow()  # when its last proposal was written
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
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


def _sharing_commit() -> Callable[[], None]:
    """A commit that, on SQLite, then leaves the write lock free for as long as the
    transaction held it (as handle_received does between texts)."""
    sqlite = db.engine.dialect.name == "sqlite"
    began = [time.monotonic()]

    def commit() -> None:
        db.session.commit()
        if sqlite:
            time.sleep(time.monotonic() - began[0])
        began[0] = time.monotonic()

    return commit


def match_if_due(app: Flask) -> int:
    """Run matching every MATCH_INTERVAL_SECONDS, and sooner (debounced) after a request,
    offer or match changed since the last run."""
    now = utcnow()
    last = db.session.scalar(
        select(func.max(MatchingRun.started_at)).where(MatchingRun.dry_run.is_(False))
    )
    if last is not None:
        age = (now - last).total_seconds()
        # Anything newer than the last run: a request or offer created or changed (both set
        # updated_at), or a proposal declined or expired (closed_at). One query.
        latest = db.session.execute(
            select(
                select(func.max(AidRequest.updated_at)).scalar_subquery(),
                select(func.max(Offer.updated_at)).scalar_subquery(),
                select(func.max(Match.closed_at)).scalar_subquery(),
            )
        ).one()
        changed = any(when is not None and when > last for when in latest)
        due = age >= app.config["MATCH_INTERVAL_SECONDS"] or (
            changed and age >= app.config["MATCH_DEBOUNCE_SECONDS"]
        )
        if not due:
            db.session.rollback()
            return 0
    db.session.rollback()
    done = run_matching(app, trigger="schedule")
    return done[0].proposed if done else 0


def expire_proposals(app: Flask, *, limit: int = 200) -> int:
    """Expire proposals past their time; pause volunteers who let several expire in a row."""
    now = utcnow()
    ids = list(
        db.session.scalars(
            select(Match.id)
            .where(Match.status == MatchStatus.PROPOSED, Match.expires_at < now)
            .order_by(Match.expires_at)
            .limit(limit)
        )
    )
    db.session.rollback()
    done = 0
    for match_id in ids:
        ctx = sms_context(app, now)
        match = db.session.get(Match, match_id)
        if match is not None and lifecycle.expire(db.session, ctx, match) is lifecycle.Outcome.DONE:
            done += 1
            _pause_if_unresponsive(app, ctx, match.offer)
        db.session.commit()
    return done


def _pause_if_unresponsive(app: Flask, ctx: SmsContext, offer: Offer) -> None:
    n = app.config["PAUSE_AFTER_EXPIRIES"]
    if n == 0 or offer.paused:
        return
    latest = list(
        db.session.scalars(
            select(Match.status)
            .where(Match.offer_id == offer.id, Match.status != MatchStatus.PROPOSED)
            .order_by(Match.id.desc())
            .limit(n)
        )
    )
    if len(latest) == n and all(s is MatchStatus.EXPIRED for s in latest):
        offer.paused = True
        record(
            db.session,
            Actor.system(),
            "offer.paused",
            subject_type="offers",
            subject_id=offer.id,
            reason=f"{n} proposals expired in a row",
        )
        say(
            db.session,
            ctx,
            offer.person,
            "paused_for_expiries",
            dedupe_key=f"paused_for_expiries:{offer.id}:{ctx.now.date()}",
            count=str(n),
        )


def escalate(app: Flask, *, limit: int = 500) -> int:
    """Flag for coordinators the requests open too long or refused too often, and send the
    waiting requester an honest update at most once per STILL_LOOKING_HOURS."""
    now = utcnow()
    config = app.config
    ctx = sms_context(app, now)
    open_requests = list(
        db.session.scalars(
            select(AidRequest)
            .where(AidRequest.status == RequestStatus.OPEN)
            .order_by(AidRequest.id)
            .limit(limit)
        )
    )
    refusals = dict(
        db.session.execute(
            select(Match.request_id, func.count())
            .where(Match.status.in_(matching_runs.REFUSED))
            .group_by(Match.request_id)
        ).all()
    )
    done = 0
    too_long = dt.timedelta(hours=config["ESCALATE_AFTER_HOURS"])
    interval = dt.timedelta(hours=config["STILL_LOOKING_HOURS"])
    for req in open_requests:
        reason = None
        if refusals.get(req.id, 0) >= config["ESCALATE_AFTER_REFUSALS"]:
            reason = f"declined or expired {refusals[req.id]} times"
        elif now - req.created_at >= too_long:
            reason = f"open for more than {config['ESCALATE_AFTER_HOURS']} hours"
        if reason and not req.flagged:
            req.flagged, req.flag_reason = True, reason
            record(
                db.session,
                Actor.system(),
                "request.flagged",
                subject_type="aid_requests",
                subject_id=req.id,
                reason=reason,
            )
            done += 1
        waited = now - req.created_at
        if waited >= interval and req.requester.phone:
            bucket = int(waited / interval)
            sent = say(
                db.session,
                ctx,
                req.requester,
                "still_looking",
                dedupe_key=f"still_looking:{req.id}:{bucket}",
                request_id=req.id,
                ref=req.ref,
                category=ctx.label(req.category, req.requester.language),
            )
            done += sent is not None
    db.session.commit()
    return done


def handle_received(app: Flask, *, limit: int = 500, max_seconds: float = 1.0) -> int:
    """Handle received inbound texts, oldest first, one transaction each (see
    services.handling), until none is ready, ``limit`` were handled, or ``max_seconds``
    passed (so the outbox is not starved). Returns how many were handled or failed.

    On SQLite, while texts keep arriving, the worker waits after each text as long as
    handling it took: the one write lock is free at least half the time for the webhooks
    storing texts (a burst stays fast); once none arrive, it catches up at full speed.

    A text stored but never handled (the worker died mid-way, handling failed) is still
    received: this job finds it again, so nothing is lost."""
    config = app.config
    rate = Limit(config["SMS_RATE_LIMIT"], config["SMS_RATE_WINDOW_SECONDS"])
    session = db.session
    sqlite = db.engine.dialect.name == "sqlite"
    started = time.monotonic()
    done = 0
    while done < limit and time.monotonic() - started < max_seconds:
        ids = handling.next_batch(session, now=utcnow())
        share = sqlite and _texts_arriving(session)
        session.rollback()
        if not ids:
            break
        # One context per batch: the places table is read once, not once per text.
        ctx = sms_context(app)
        before = done
        for message_id in ids[: limit - done]:
            began = time.monotonic()
            done += _handle_one(app, ctx, rate, message_id)
            if share:
                time.sleep(time.monotonic() - began)
            if time.monotonic() - started >= max_seconds:
                break
        if done == before:
            break  # all taken by other workers meanwhile
    return done


_newest_inbound: list[int | None] = [None]


def _texts_arriving(session) -> bool:
    """Whether a text arrived since this process last looked (the newest inbound id)."""
    newest = session.scalar(
        select(func.max(Message.id)).where(Message.direction == MessageDirection.INBOUND)
    )
    arriving = newest != _newest_inbound[0]
    _newest_inbound[0] = newest
    return arriving


def _handle_one(app: Flask, ctx: SmsContext, rate: Limit, message_id: int) -> bool:
    session = db.session
    message = handling.claim(session, message_id)
    if message is None:
        session.rollback()
        return False
    now = utcnow()
    try:
        with session.begin_nested():
            handling.handle(
                session,
                dataclasses.replace(ctx, now=now),
                message,
                limit=rate,
                secret=app.config["SECRET_KEY"],
            )
    except Exception as exc:
        log.exception("inbound message %s not handled; it stays received for a retry", message_id)
        handling.count_failure(session, message, exc, now=now)
    session.commit()
    return True


def purge_expired(app: Flask) -> int:
    """The retention job (the worker runs it a few times a day; it is idempotent)."""
    from mutualaid.services.retention import purge

    report = purge(
        db.session, now=utcnow(), retention=dt.timedelta(days=app.config["RETENTION_DAYS"])
    )
    db.session.commit()
    return report.requests + report.people


def recover_inbound(app: Flask, *, since: dt.timedelta = dt.timedelta(hours=1), sender=None) -> int:
    """Import and handle the texts Twilio received that we never stored (the service was
    down, or a webhook was lost): each MessageSid is stored at most once, however often
    this runs. Only the Twilio backend can be asked; otherwise it does nothing."""
    from mutualaid.services.inbox import import_missed

    if sender is None:
        if app.config["SMS_BACKEND"] != "twilio":
            return 0
        sender = app.extensions.get("mutualaid.sms_sender")
        if sender is None:
            from mutualaid.ports import build_sender

            sender = app.extensions["mutualaid.sms_sender"] = build_sender(app.config)
    listed = sender.list_messages(
        to=app.config["TWILIO_FROM"] or None, date_sent_after=utcnow() - since
    )
    new_ids = import_missed(
        db.session, listed, region=app.config["PHONE_REGION"], max_body=app.config["SMS_MAX_BODY"]
    )
    db.session.commit()
    if new_ids:
        log.warning("recovered %d inbound messages the webhook never delivered", len(new_ids))
        # They are older than anything received since: handled first, in their order.
        handle_received(app, limit=len(new_ids), max_seconds=float("inf"))
    return len(new_ids)
