"""The coordinators' dashboard: queues, request and volunteer pages, matching runs and their
preview, map, figures, CSV export and the audit log. Viewers read (masked), coordinators
act through the services, admins also manage accounts (web/auth.py)."""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Iterator
from zoneinfo import ZoneInfo

from flask import (
    Blueprint,
    Flask,
    Response,
    abort,
    current_app,
    flash,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

from mutualaid import jobs
from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    Channel,
    Match,
    MatchStatus,
    Message,
    MessageStatus,
    Offer,
    Person,
    RequestStatus,
    Urgency,
    utcnow,
)
from mutualaid.services import dashboard as queries
from mutualaid.services import (
    lifecycle,
    matching_runs,
    message_search,
    notes,
    previews,
    retention,
)
from mutualaid.services.errors import Refused
from mutualaid.services.links import proposal_link
from mutualaid.web.auth import require
from mutualaid.web.i18n import current_language
from mutualaid.web.i18n import translate as t
from mutualaid.web.ports import sms_context

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)


def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time shown in the network's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


@bp.url_value_preprocessor
def _ids_in_range(endpoint: str | None, values: dict | None) -> None:
    """An id no database row can have is a 404 here, not a database error."""
    if any(k.endswith("_id") and v > queries.MAX_ID for k, v in (values or {}).items()):
        abort(404)


@bp.context_processor
def _common() -> dict:
    return {"categories": _categories()}


def _privacy(full: bool = False) -> queries.Privacy:
    words = {word: t(f"dash.privacy.{word}") for word in queries.Privacy.WORDS}
    return queries.Privacy(
        full and current_user.can("act"), current_app.config["PHONE_REGION"], words
    )


def _refusal(exc: ValueError) -> str:
    """What a service refused, in the reader's language."""
    if isinstance(exc, Refused):
        return t(f"dash.error.{exc.key}", **exc.values)
    return str(exc)


def _categories() -> dict:
    return current_app.extensions["categories"]


def _today_start(now: dt.datetime) -> dt.datetime:
    tz = ZoneInfo(current_app.config["TIMEZONE"])
    local = now.astimezone(tz)
    return local.replace(hour=0, minute=0, second=0, microsecond=0).astimezone(dt.UTC)


# --- Overview and requests ------------------------------------------------------------


@bp.get("/")
@require("read")
def overview():
    now = utcnow()
    data = queries.overview(db.session, now=now, day_start=_today_start(now))
    return render_template("dashboard/overview.html", o=data, now=now, privacy=_privacy())


@bp.get("/requests")
@require("read")
def requests():
    f = queries.RequestFilter.from_args(request.args)
    rows, total = queries.list_requests(db.session, f, now=utcnow())
    return render_template(
        "dashboard/requests.html",
        rows=rows,
        total=total,
        f=f,
        pages=max(1, -(-total // queries.PAGE_SIZE)),
        states=list(RequestStatus),
        urgencies=list(Urgency),
        channels=list(Channel),
        sorts=queries.SORTS,
        categories=_categories(),
        privacy=_privacy(),
        now=utcnow(),
    )


def _request_or_404(request_id: int) -> AidRequest:
    req = db.session.get(AidRequest, request_id)
    if req is None:
        abort(404)
    return req


def _request_page(request_id: int, *, full: bool = False, status: int = 200):
    page = queries.request_page(db.session, request_id)
    if page is None:
        abort(404)
    options = []
    if current_user.can("act") and page.req.status is RequestStatus.OPEN:
        options = queries.candidates(db.session, page.req, max_km=current_app.config["MAX_KM"])
    return render_template(
        "dashboard/request.html",
        p=page,
        req=page.req,
        candidates=options,
        privacy=_privacy(full),
        categories=_categories(),
        live=[m for m in page.matches if m.status in (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)],
    ), status


@bp.get("/requests/<int:request_id>")
@require("read")
def request_detail(request_id: int):
    return _request_page(request_id)


@bp.post("/requests/<int:request_id>/reveal")
@require("act")
def request_reveal(request_id: int):
    req = _request_or_404(request_id)
    queries.reveal(
        db.session, current_user.actor, subject_type="people", subject_id=req.requester_id
    )
    db.session.commit()
    return _request_page(request_id, full=True)


def _back_to_request(req_id: int):
    return redirect(url_for("dashboard.request_detail", request_id=req_id), code=303)


@bp.post("/requests/<int:request_id>/assign")
@require("act")
def request_assign(request_id: int):
    req = _request_or_404(request_id)
    offer_id = request.form.get("offer_id", "")
    offer_ref = queries.whole_number(offer_id)
    offer = db.session.get(Offer, offer_ref) if offer_ref is not None else None
    if offer is None:
        abort(422)
    options = queries.candidates(db.session, req, max_km=current_app.config["MAX_KM"], limit=10_000)
    chosen = next((c for c in options if c.offer.id == offer.id), None)
    if chosen is None:
        flash(t("dash.flash.assign_cannot"))
        return _back_to_request(req.id)
    match = lifecycle.assign(
        db.session,
        sms_context(db.session),
        req,
        offer,
        actor=current_user.actor,
        km=chosen.km,
    )
    if match is None:
        db.session.rollback()
        flash(t("dash.flash.assign_too_late"))
    else:
        db.session.commit()
        flash(t("dash.flash.assigned", id=offer.id, km=f"{chosen.km:.1f}"))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/notes")
@require("act")
def request_note(request_id: int):
    req = _request_or_404(request_id)
    try:
        notes.add_note(
            db.session, req, request.form.get("body", ""), actor=current_user.actor, now=utcnow()
        )
    except ValueError as exc:
        db.session.rollback()
        flash(t("dash.flash.note_not_saved", error=_refusal(exc)))
        return _back_to_request(req.id)
    db.session.commit()
    flash(t("dash.flash.note_added"))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/cancel")
@require("act")
def request_cancel(request_id: int):
    req = _request_or_404(request_id)
    outcome = lifecycle.cancel_request(
        db.session, sms_context(db.session), req, actor=current_user.actor
    )
    db.session.commit()
    done = outcome is lifecycle.Outcome.DONE
    flash(t("dash.flash.cancelled" if done else "dash.flash.too_late"))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/complete")
@require("act")
def request_complete(request_id: int):
    req = _request_or_404(request_id)
    accepted = db.session.scalar(
        db.select(Match).where(Match.request_id == req.id, Match.status == MatchStatus.ACCEPTED)
    )
    if accepted is None:
        flash(t("dash.flash.complete_needs_accepted"))
        return _back_to_request(req.id)
    outcome = lifecycle.complete(
        db.session, sms_context(db.session), accepted, actor=current_user.actor
    )
    db.session.commit()
    done = outcome is lifecycle.Outcome.DONE
    flash(t("dash.flash.completed" if done else "dash.flash.too_late"))
    return _back_to_request(req.id)


# --- Volunteers -----------------------------------------------------------------------


@bp.get("/volunteers")
@require("read")
def volunteers():
    f = queries.VolunteerFilter.from_args(request.args)
    rows, total = queries.list_volunteers(db.session, f)
    return render_template(
        "dashboard/volunteers.html",
        rows=rows,
        total=total,
        f=f,
        pages=max(1, -(-total // queries.PAGE_SIZE)),
        categories=_categories(),
        privacy=_privacy(),
    )


def _volunteer_page(offer_id: int, *, full: bool = False):
    page = queries.volunteer_page(db.session, offer_id)
    if page is None:
        abort(404)
    return render_template(
        "dashboard/volunteer.html",
        v=page,
        offer=page.offer,
        privacy=_privacy(full),
        categories=_categories(),
    )


@bp.get("/volunteers/<int:offer_id>")
@require("read")
def volunteer_detail(offer_id: int):
    return _volunteer_page(offer_id)


def _offer_or_404(offer_id: int) -> Offer:
    offer = db.session.get(Offer, offer_id)
    if offer is None:
        abort(404)
    return offer


@bp.post("/volunteers/<int:offer_id>/reveal")
@require("act")
def volunteer_reveal(offer_id: int):
    offer = _offer_or_404(offer_id)
    queries.reveal(
        db.session, current_user.actor, subject_type="people", subject_id=offer.person_id
    )
    db.session.commit()
    return _volunteer_page(offer_id, full=True)


@bp.post("/volunteers/<int:offer_id>/<any(vet, pause, resume, block):action>")
@require("act")
def volunteer_action(offer_id: int, action: str):
    offer = _offer_or_404(offer_id)
    actor = current_user.actor
    if action == "vet":
        changed = queries.vet(db.session, offer, actor=actor, now=utcnow())
    elif action == "block":
        changed = queries.block(db.session, offer.person, actor=actor)
    else:
        changed = queries.set_paused(db.session, offer, action == "pause", actor=actor)
    db.session.commit()
    flash(
        t(f"dash.flash.volunteer_{action}", id=offer.id)
        if changed
        else t("dash.flash.nothing_to_change")
    )
    return redirect(url_for("dashboard.volunteer_detail", offer_id=offer.id), code=303)


@bp.post("/people/<int:person_id>/erase")
@require("admin")
def person_erase(person_id: int):
    """An admin erases a person at once (their requests cancelled first); the page they
    came from (a request or a volunteer) shows what is left: nothing that identifies them."""
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    back = request.form.get("back", "")
    if not back.startswith("/dashboard/") or "\\" in back or "//" in back:
        back = url_for("dashboard.overview")
    if request.form.get("confirm") != "yes":
        flash(t("dash.flash.erase_unconfirmed"))
        return redirect(back, code=303)
    try:
        erased = retention.erase_person_now(
            db.session, sms_context(db.session), person, actor=current_user.actor
        )
    except Refused as exc:
        db.session.rollback()
        flash(t("dash.flash.erase_refused", error=_refusal(exc)))
        return redirect(back, code=303)
    db.session.commit()
    flash(t("dash.flash.erased", messages=erased))
    return redirect(back, code=303)


# --- Matching -------------------------------------------------------------------------


@bp.get("/matching")
@require("read")
def matching():
    return _matching_page()


def _matching_page(plan=None, run=None, status: int = 200):
    pairs, unmatched, sealed = [], [], ""
    if plan is not None:
        previewed = previews.pairs_of(plan)
        req_ids = [p.request_id for p in previewed]
        req_ids += [int(u.need[1:]) for u in plan.result.unmatched]
        reqs = queries.requests_by_ref(db.session, req_ids)
        offers = queries.offers_by_id(db.session, [p.offer_id for p in previewed])
        pairs = [(p, reqs.get(p.request_id), offers.get(p.offer_id)) for p in previewed]
        unmatched = [(u, reqs.get(int(u.need[1:]))) for u in plan.result.unmatched]
        sealed = _preview_seal().dumps([p.as_list() for p in previewed])
        form_size = len(sealed) + sum(len(f"&request={p.request_id}") for p in previewed)
        if form_size > current_app.config["MAX_CONTENT_LENGTH"] - 4096:
            sealed = ""  # too many pairs to post back: the page offers a fresh run instead
    return render_template(
        "dashboard/matching.html",
        runs=queries.recent_runs(db.session),
        plan=plan,
        run=run,
        pairs=pairs,
        unmatched=unmatched,
        sealed=sealed,
    ), status


PREVIEW_MAX_AGE = 3600  # seconds a preview may be sent after it was shown


def _preview_seal() -> URLSafeTimedSerializer:
    """Signs the previewed pairs into the page, so "send" proposes exactly those."""
    return URLSafeTimedSerializer(current_app.secret_key, salt="dashboard.matching-preview")


def _previewed_pairs(token: str) -> list[previews.PreviewPair] | None:
    """The pairs a preview showed, or None for a preview too old, altered or not one."""
    try:
        rows = _preview_seal().loads(token, max_age=PREVIEW_MAX_AGE)
        return [previews.PreviewPair.from_list(row) for row in rows]
    except (BadData, TypeError, ValueError):
        return None


@bp.post("/matching/preview")
@require("act")
def matching_preview():
    done = jobs.run_matching(
        current_app._get_current_object(),
        trigger="coordinator",
        triggered_by=current_user.id,
        dry_run=True,
    )
    if done is None:
        flash(t("dash.flash.run_busy"))
        return redirect(url_for("dashboard.matching"), code=303)
    run, plan = done
    return _matching_page(plan, run)


@bp.post("/matching/send")
@require("act")
def matching_send():
    """Without a preview: a full run, sent at once. With one: exactly the checked pairs of
    that preview (those still possible), and nothing for the unchecked requests."""
    if request.form.get("selection") == "1":
        return _send_previewed()
    done = jobs.run_matching(
        current_app._get_current_object(), trigger="coordinator", triggered_by=current_user.id
    )
    if done is None:
        flash(t("dash.flash.run_busy"))
    else:
        run, _plan = done
        flash(t("dash.flash.run_sent", proposed=run.proposed, unmatched=run.unmatched))
    return redirect(url_for("dashboard.matching"), code=303)


SKIPPED_SHOWN = 20


def _send_previewed():
    back = redirect(url_for("dashboard.matching"), code=303)
    previewed = _previewed_pairs(request.form.get("plan", ""))
    if previewed is None:
        flash(t("dash.flash.preview_gone"))
        return back
    kept = {queries.whole_number(v) for v in request.form.getlist("request")} - {None}
    chosen = [p for p in previewed if p.request_id in kept]
    if not chosen:
        flash(t("dash.flash.none_kept"))
        return back
    if not matching_runs.run_lock(db.session):
        db.session.rollback()
        flash(t("dash.flash.run_busy"))
        return back
    secret, base = current_app.config["SECRET_KEY"], current_app.config["PUBLIC_BASE_URL"]
    sent = previews.send_previewed(
        db.session,
        sms_context(db.session),
        chosen,
        categories=_categories(),
        max_km=current_app.config["MAX_KM"],
        actor=current_user.actor,
        started_at=utcnow(),
        link_for=lambda match: proposal_link(base, secret, match),
    )
    db.session.commit()
    left_open = len(previewed) - len(chosen)
    flash(t("dash.flash.sent_previewed", sent=len(sent.proposed), kept=len(chosen), open=left_open))
    if sent.skipped:
        flash(t("dash.flash.skipped", n=len(sent.skipped)))
        for s in sent.skipped[:SKIPPED_SHOWN]:
            values = dict(s.values)
            if "state" in values:
                values["state"] = t(f"dash.state.{values['state']}")
            reason = t(f"dash.skip_reason.{s.reason}", **values)
            ref = s.ref or s.pair.request_id
            flash(t("dash.flash.skipped_pair", ref=ref, offer=s.pair.offer_id, reason=reason))
        if len(sent.skipped) > SKIPPED_SHOWN:
            flash(t("dash.flash.skipped_more", n=len(sent.skipped) - SKIPPED_SHOWN))
    return back


# --- Map, figures, export, audit ------------------------------------------------------

MAP_W, MAP_H = 800, 600


@bp.get("/map", endpoint="map")
@require("read")
def map_page():
    category = request.args.get("category", "")
    category = category if category in _categories() else ""
    points = queries.map_points(db.session, width=MAP_W, height=MAP_H, category=category)
    cats = list(_categories())
    return render_template(
        "dashboard/map.html",
        points=points,
        width=MAP_W,
        height=MAP_H,
        colour={c: i % 8 for i, c in enumerate(cats)},
        categories=_categories(),
        n_requests=sum(p.count for p in points if p.kind == "request"),
        n_volunteers=sum(p.count for p in points if p.kind == "volunteer"),
        chosen=category,
    )


@bp.get("/figures")
@require("read")
def figures():
    days = request.args.get("days", "30")
    days_n = min(queries.whole_number(days, top=10**6) or 30, 365)
    fig = queries.figures(
        db.session, now=utcnow(), days=days_n, tz=ZoneInfo(current_app.config["TIMEZONE"])
    )
    top = max([n for _, n in fig.days] + [1])
    lang = current_language()
    labels = {key: c.label(lang) for key, c in _categories().items()}
    return render_template(
        "dashboard/figures.html",
        fig=fig,
        days=days_n,
        top=top,
        categories=_categories(),
        category_bars=[(labels.get(c, c), n, served) for c, n, served, _ in fig.by_category],
        area_bars=[
            (t("dash.figures.unknown_area") if a == "unknown" else a, n, served)
            for a, n, served in fig.by_area
        ],
        zip=zip,
    )


@bp.get("/export")
@require("read")
def export():
    return render_template("dashboard/export.html", kinds=queries.EXPORTS)


def _csv(kind: str, privacy: queries.Privacy) -> Response:
    def generate() -> Iterator[str]:
        out = io.StringIO()
        # Every cell quoted: a spreadsheet whose list separator is ";" never splits one.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        for row in queries.export_rows(db.session, kind, privacy):
            writer.writerow(row)
            if out.tell() > 64 * 1024:
                yield out.getvalue()
                out.seek(0)
                out.truncate()
        yield out.getvalue()

    stamp = utcnow().strftime("%Y%m%d-%H%M")
    return Response(
        stream_with_context(generate()),
        mimetype="text/csv",
        headers={"Content-Disposition": f'attachment; filename="{kind}-{stamp}.csv"'},
    )


@bp.get("/export/<any(requests, volunteers, matches):kind>.csv")
@require("read")
def export_csv(kind: str):
    """Masked for everyone: phones to the last two digits, no addresses, places only."""
    return _csv(kind, _privacy(False))


@bp.post("/export/<any(requests, volunteers, matches):kind>.csv")
@require("act")
def export_csv_full(kind: str):
    """With contact details, for coordinators: audited like any reveal."""
    queries.reveal(db.session, current_user.actor, subject_type=f"export:{kind}", subject_id=None)
    db.session.commit()
    return _csv(kind, _privacy(True))


@bp.get("/audit")
@require("read")
def audit():
    f = queries.AuditFilter.from_args(request.args)
    rows, more = queries.audit_log(db.session, f)
    return render_template("dashboard/audit.html", rows=rows, more=more, f=f)


# --- Messages -------------------------------------------------------------------------


@bp.get("/messages")
@require("read")
def messages():
    return render_template(
        "dashboard/messages.html",
        rows=queries.failed_messages(db.session),
        privacy=_privacy(),
    )


@bp.post("/messages/search")
@require("read")
def message_search_results():
    """A search of the SMS log. Posted, never in the address: what is searched for may be a
    phone number or a street. With ``reveal`` (coordinators), numbers and texts are shown
    in full, and that is audited like any reveal."""
    reveal = request.form.get("reveal") == "1"
    if reveal and not current_user.can("act"):
        abort(403)
    form = {k: request.form.get(k, "") for k in ("q", "phone", "before")}
    try:
        query = message_search.MessageQuery.from_form(form, current_app.config["PHONE_REGION"])
    except ValueError as exc:
        return render_template(
            "dashboard/message_search.html", form=form, error=_refusal(exc), results=None
        ), 422
    results = message_search.search(db.session, query)
    if reveal:
        queries.reveal(db.session, current_user.actor, subject_type="messages", subject_id=None)
        db.session.commit()
    return render_template(
        "dashboard/message_search.html",
        form=form,
        error=None,
        results=results,
        query=query,
        privacy=_privacy(reveal),
    )


@bp.post("/messages/<int:message_id>/retry")
@require("act")
def message_retry(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    again = queries.retry_message(db.session, message, actor=current_user.actor)
    db.session.commit()
    flash(t("dash.flash.retried" if again is not None else "dash.flash.not_retried"))
    return redirect(url_for("dashboard.messages"), code=303)


def _send_text(person, request_id: int | None) -> None:
    try:
        message = queries.message_person(
            db.session,
            person,
            request.form.get("body", ""),
            actor=current_user.actor,
            request_id=request_id,
            now=utcnow(),
        )
    except ValueError as exc:
        db.session.rollback()
        flash(t("dash.flash.not_sent", error=_refusal(exc)))
        return
    db.session.commit()
    sent = message is not None and message.status is MessageStatus.QUEUED
    flash(t("dash.flash.queued" if sent else "dash.flash.stored_not_sent"))


@bp.post("/requests/<int:request_id>/message")
@require("act")
def request_message(request_id: int):
    req = _request_or_404(request_id)
    _send_text(req.requester, req.id)
    return _back_to_request(req.id)


@bp.post("/volunteers/<int:offer_id>/message")
@require("act")
def volunteer_message(offer_id: int):
    offer = _offer_or_404(offer_id)
    _send_text(offer.person, None)
    return redirect(url_for("dashboard.volunteer_detail", offer_id=offer.id), code=303)


@bp.post("/requests/bulk")
@require("act")
def requests_bulk():
    """One action on the requests checked in the list: cancel, flag, or re-run matching
    for just them."""
    ids = sorted({queries.whole_number(v) for v in request.form.getlist("request")} - {None})
    ids = ids[: queries.PAGE_SIZE]
    action = request.form.get("action", "")
    target = request.form.get("back", "")
    if not target.startswith("/dashboard/requests") or "\\" in target or "//" in target:
        target = url_for("dashboard.requests")  # only back to the list, never elsewhere
    back = redirect(target, code=303)
    if not ids or action not in {"cancel", "flag", "match"}:
        flash(t("dash.flash.choose_bulk"))
        return back
    if action == "match":
        done = jobs.run_matching(
            current_app._get_current_object(),
            trigger="coordinator",
            triggered_by=current_user.id,
            only_requests=set(ids),
        )
        if done is None:
            flash(t("dash.flash.run_busy"))
        else:
            flash(t("dash.flash.bulk_run", n=len(ids), proposed=done[0].proposed))
        return back
    reqs = queries.requests_by_ref(db.session, ids)
    changed = 0
    ctx = sms_context(db.session) if action == "cancel" else None
    for req in reqs.values():
        if action == "cancel":
            outcome = lifecycle.cancel_request(db.session, ctx, req, actor=current_user.actor)
            changed += outcome is lifecycle.Outcome.DONE
        else:
            reason = request.form.get("reason", "") or t("dash.flash.flag_default")
            changed += queries.flag(db.session, req, reason, actor=current_user.actor)
    db.session.commit()
    key = "dash.flash.bulk_cancelled" if action == "cancel" else "dash.flash.bulk_flagged"
    flash(t(key, changed=changed, n=len(ids)))
    return back


@bp.post("/requests/<int:request_id>/merge")
@require("act")
def request_merge(request_id: int):
    """This request duplicates another: cancel it (its volunteer, if any, is told) and
    record where it went."""
    duplicate = _request_or_404(request_id)
    into = queries.find_by_ref(db.session, request.form.get("into", ""))
    if into is None or into.id == duplicate.id:
        flash(t("dash.flash.merge_needs_ref"))
        return _back_to_request(duplicate.id)
    outcome = lifecycle.cancel_request(
        db.session, sms_context(db.session), duplicate, actor=current_user.actor
    )
    if outcome is not lifecycle.Outcome.DONE:
        db.session.rollback()
        flash(t("dash.flash.too_late"))
        return _back_to_request(duplicate.id)
    queries.record_merge(db.session, duplicate, into, actor=current_user.actor)
    db.session.commit()
    flash(t("dash.flash.merged", ref=into.ref))
    return _back_to_request(into.id)


@bp.post("/requests/<int:request_id>/edit")
@require("act")
def request_edit(request_id: int):
    req = _request_or_404(request_id)
    urgency = request.form.get("urgency", "")
    try:
        changed = queries.edit_request(
            db.session,
            req,
            category=request.form.get("category", ""),
            urgency=Urgency(urgency) if urgency in {u.value for u in Urgency} else req.urgency,
            categories=_categories(),
            actor=current_user.actor,
        )
    except ValueError as exc:
        db.session.rollback()
        flash(t("dash.flash.edit_not_changed", error=_refusal(exc)))
        return _back_to_request(req.id)
    db.session.commit()
    flash(t("dash.flash.edited" if changed else "dash.flash.nothing_to_change"))
    return _back_to_request(req.id)
