"""The coordinators' dashboard: queues, request and volunteer pages, matching runs and their
preview, map, figures, CSV export and the audit log. Viewers read (masked), coordinators
act through the services, admins also manage accounts (web/auth.py).

Each view is one unit of work (mutualaid.unit_of_work): it commits when the view returns.
A service that refuses raises Refused; the unit rolls back and :func:`_refused` says why
on the page the action came from."""

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
    g,
    redirect,
    render_template,
    request,
    stream_with_context,
    url_for,
)
from flask_login import current_user
from itsdangerous import BadData, URLSafeTimedSerializer

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import (
    AidRequest,
    Channel,
    MatchStatus,
    Message,
    MessageStatus,
    Offer,
    Person,
    RequestStatus,
    Urgency,
    utcnow,
)
from mutualaid.services import (
    assignment,
    details,
    exports,
    imports,
    matching_runs,
    message_search,
    messaging,
    notes,
    optin,
    previews,
    privacy,
    queues,
    reports,
    request_commands,
    retention,
    spreadsheets,
    threads,
    volunteer_commands,
)
from mutualaid.services.errors import Refused
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.web import events, query
from mutualaid.web.auth import require
from mutualaid.web.i18n import N_, current_language, label, number
from mutualaid.web.i18n import gettext as _
from mutualaid.web.runs import hold_run_lock, run_now

bp = Blueprint("dashboard", __name__, url_prefix="/dashboard")


def init_app(app: Flask) -> None:
    app.add_template_filter(localtime)
    app.add_template_global(events.sentence, "event_sentence")


def localtime(value: dt.datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    """A UTC time shown in the network's time zone."""
    if value is None:
        return ""
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt)


@bp.url_value_preprocessor
def _ids_in_range(endpoint: str | None, values: dict | None) -> None:
    """An id no database row can have is a 404 here, not a database error."""
    if any(k.endswith("_id") and v > query.MAX_ID for k, v in (values or {}).items()):
        abort(404)


@bp.context_processor
def _common() -> dict:
    return {"categories": _categories()}


def _privacy(full: bool = False) -> privacy.Privacy:
    words = {word: label("dash.privacy", word) for word in privacy.Privacy.WORDS}
    return privacy.Privacy(
        full and current_user.can("act"), current_app.config["PHONE_REGION"], words
    )


def _refusal(exc: ValueError) -> str:
    """What a service refused, in the reader's language."""
    if isinstance(exc, Refused):
        return label("dash.error", exc.key, **exc.values)
    return str(exc)


def refusal_says(key: str):
    """The flash message (``key``, with the reason as ``{error}``) that tells a refusal of
    this view's action; without it the reason is said alone."""

    def mark(view):
        view.refusal_says = key
        return view

    return mark


@bp.errorhandler(Refused)
def _refused(exc: Refused):
    """A service refused the action: nothing of it was stored (the unit of work rolled
    back). Say why, and go back to the page the action came from."""
    view = current_app.view_functions.get(request.endpoint or "")
    says = getattr(view, "refusal_says", None)
    flash(_(says, error=_refusal(exc)) if says else _refusal(exc))
    return redirect(_page_of_action(), code=303)


def _page_of_action() -> str:
    args = request.view_args or {}
    if "request_id" in args:
        return url_for("dashboard.request_detail", request_id=args["request_id"])
    if "offer_id" in args:
        return url_for("dashboard.volunteer_detail", offer_id=args["offer_id"])
    if "person_id" in args and request.endpoint == "dashboard.person_message":
        return url_for("dashboard.person_detail", person_id=args["person_id"])
    return _back_within("/dashboard/", "dashboard.overview")


def _back_within(prefix: str, default: str) -> str:
    """The form's ``back`` address when it is a page under ``prefix``, never elsewhere."""
    back = request.form.get("back", "")
    if not back.startswith(prefix) or "\\" in back or "//" in back:
        return url_for(default)
    return back


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
    data = queues.overview(db.session, now=now, day_start=_today_start(now))
    return render_template(
        "dashboard/overview.html",
        o=data,
        threads=threads.open_threads(db.session),
        now=now,
        privacy=_privacy(),
    )


@bp.get("/requests")
@require("read")
def requests():
    f = query.request_filter(request.args)
    rows, total = queues.list_requests(db.session, f, now=utcnow())
    return render_template(
        "dashboard/requests.html",
        rows=rows,
        total=total,
        f=f,
        pages=max(1, -(-total // queues.PAGE_SIZE)),
        states=list(RequestStatus),
        urgencies=list(Urgency),
        channels=list(Channel),
        sorts=queues.SORTS,
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
    page = details.request_page(db.session, request_id)
    if page is None:
        abort(404)
    options = []
    if current_user.can("act") and page.req.status is RequestStatus.OPEN:
        options = assignment.candidates(db.session, page.req, max_km=current_app.config["MAX_KM"])
    return render_template(
        "dashboard/request.html",
        p=page,
        req=page.req,
        candidates=options,
        privacy=_privacy(full),
        categories=_categories(),
        live=[m for m in page.matches if m.status in (MatchStatus.PROPOSED, MatchStatus.ACCEPTED)],
        places=details.place_names(db.session) if page.req.status is RequestStatus.OPEN else [],
        **_thread_of(page.req.requester_id),
    ), status


def _thread_of(person_id: int) -> dict:
    """The person's open thread with coordinators (None when closed) and its texts."""
    thread = threads.thread_of(db.session, person_id)
    rows = threads.thread_messages(db.session, person_id, thread.opened_at) if thread else []
    return {"thread": thread, "thread_rows": rows}


@bp.get("/requests/<int:request_id>")
@require("read")
def request_detail(request_id: int):
    return _request_page(request_id)


@bp.post("/requests/<int:request_id>/reveal")
@require("act")
def request_reveal(request_id: int):
    req = _request_or_404(request_id)
    privacy.reveal(
        db.session, current_user.actor, subject_type="people", subject_id=req.requester_id
    )
    return _request_page(request_id, full=True)


def _back_to_request(req_id: int):
    return redirect(url_for("dashboard.request_detail", request_id=req_id), code=303)


@bp.post("/requests/<int:request_id>/assign")
@require("act")
def request_assign(request_id: int):
    req = _request_or_404(request_id)
    offer_id = query.whole_number(request.form.get("offer_id", ""))
    if offer_id is None or db.session.get(Offer, offer_id) is None:
        abort(422)
    agreed = request.form.get("agreed") == "1"
    _match, km = assignment.assign(
        db.session,
        adapters.sms_context(),
        req,
        offer_id,
        max_km=current_app.config["MAX_KM"],
        actor=current_user.actor,
        agreed=agreed,
        link_for=adapters.proposal_links(),
    )
    distance = number(km, 1)
    if agreed:
        flash(_("Assigned to volunteer V%(id)s (%(km)s km).", id=offer_id, km=distance))
    else:
        flash(
            _(
                "Proposed to volunteer V%(id)s (%(km)s km) by SMS: their YES makes it theirs.",
                id=offer_id,
                km=distance,
            )
        )
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/notes")
@require("act")
@refusal_says(N_("Note not saved: %(error)s."))
def request_note(request_id: int):
    req = _request_or_404(request_id)
    notes.add_note(
        db.session, req, request.form.get("body", ""), actor=current_user.actor, now=utcnow()
    )
    flash(_("Note added."))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/cancel")
@require("act")
def request_cancel(request_id: int):
    req = _request_or_404(request_id)
    request_commands.cancel(db.session, adapters.sms_context(), req, actor=current_user.actor)
    flash(_("Request cancelled."))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/complete")
@require("act")
def request_complete(request_id: int):
    req = _request_or_404(request_id)
    request_commands.complete(db.session, adapters.sms_context(), req, actor=current_user.actor)
    flash(_("Marked completed."))
    return _back_to_request(req.id)


@bp.post("/requests/<int:request_id>/confirmed-by-phone")
@require("act")
def request_confirmed_by_phone(request_id: int):
    """An imported request a coordinator confirmed with its requester by phone: it needs no
    YES by text (services.optin)."""
    req = _request_or_404(request_id)
    actor = current_user.actor
    optin.confirm(db.session, req.requester, source=f"phone:{actor.type}:{actor.id}", actor=actor)
    flash(_("Confirmed by phone: the request can be matched now."))
    return _back_to_request(req.id)


# --- Volunteers -----------------------------------------------------------------------


@bp.get("/volunteers")
@require("read")
def volunteers():
    f = query.volunteer_filter(request.args)
    rows, total = queues.list_volunteers(db.session, f)
    return render_template(
        "dashboard/volunteers.html",
        rows=rows,
        total=total,
        f=f,
        pages=max(1, -(-total // queues.PAGE_SIZE)),
        categories=_categories(),
        privacy=_privacy(),
    )


def _volunteer_page(offer_id: int, *, full: bool = False):
    page = details.volunteer_page(db.session, offer_id)
    if page is None:
        abort(404)
    return render_template(
        "dashboard/volunteer.html",
        v=page,
        offer=page.offer,
        privacy=_privacy(full),
        categories=_categories(),
        **_thread_of(page.offer.person_id),
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
    privacy.reveal(
        db.session, current_user.actor, subject_type="people", subject_id=offer.person_id
    )
    return _volunteer_page(offer_id, full=True)


@bp.post("/volunteers/<int:offer_id>/<any(vet, pause, resume, block):action>")
@require("act")
def volunteer_action(offer_id: int, action: str):
    offer = _offer_or_404(offer_id)
    changed = volunteer_commands.act(
        db.session, offer, action, actor=current_user.actor, now=utcnow()
    )
    flash(
        label("dash.flash.volunteer", action, id=offer.id) if changed else _("Nothing to change.")
    )
    return redirect(url_for("dashboard.volunteer_detail", offer_id=offer.id), code=303)


def _person_or_404(person_id: int) -> Person:
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    return person


def _person_page(person_id: int, *, full: bool = False):
    person = _person_or_404(person_id)
    page = details.person_page(db.session, person.id)
    return render_template(
        "dashboard/person.html",
        person=person,
        requests=page.requests,
        offer_id=page.offer_id,
        rows=page.messages,
        privacy=_privacy(full),
        categories=_categories(),
        **_thread_of(person.id),
    )


@bp.get("/people/<int:person_id>")
@require("read")
def person_detail(person_id: int):
    """One person: their requests, their offer, their thread with coordinators, texts."""
    return _person_page(person_id)


@bp.post("/people/<int:person_id>/reveal")
@require("act")
def person_reveal(person_id: int):
    person = _person_or_404(person_id)
    privacy.reveal(db.session, current_user.actor, subject_type="people", subject_id=person.id)
    return _person_page(person_id, full=True)


@bp.post("/people/<int:person_id>/message")
@require("act")
@refusal_says(N_("Not sent: %(error)s."))
def person_message(person_id: int):
    _send_text(_person_or_404(person_id), None)
    return redirect(url_for("dashboard.person_detail", person_id=person_id), code=303)


@bp.post("/people/<int:person_id>/handled")
@require("act")
def person_handled(person_id: int):
    """The person's thread with coordinators is handled: closed."""
    person = _person_or_404(person_id)
    done = threads.mark_handled(db.session, person.id, actor=current_user.actor)
    flash(
        _("Marked handled: their texts are read as commands again.")
        if done
        else _("Nothing to mark: no conversation was open.")
    )
    return redirect(_back_within("/dashboard/", "dashboard.overview"), code=303)


@bp.post("/people/<int:person_id>/erase")
@require("admin")
@refusal_says(N_("Nothing erased: %(error)s."))
def person_erase(person_id: int):
    """An admin erases a person at once (their requests cancelled first); the page they
    came from (a request or a volunteer) shows what is left: nothing that identifies them."""
    person = db.session.get(Person, person_id)
    if person is None:
        abort(404)
    back = _back_within("/dashboard/", "dashboard.overview")
    if request.form.get("confirm") != "yes":
        flash(_("Nothing erased: tick the box to confirm."))
        return redirect(back, code=303)
    erased = retention.erase_person_now(
        db.session, adapters.sms_context(), person, actor=current_user.actor
    )
    flash(
        _(
            "Erased: their contact details, addresses, notes and %(messages)s texts. What is left is anonymous.",  # noqa: E501 (one message id)
            messages=erased,
        )
    )
    return redirect(back, code=303)


# --- Matching -------------------------------------------------------------------------


@bp.get("/matching")
@require("read")
def matching():
    """The runs; in review mode (MATCH_MODE = review) also the preview the worker prepared,
    for a coordinator to send."""
    if current_app.config["MATCH_MODE"] == "review":
        run = matching_runs.prepared_preview(db.session)
        if run is not None and run.preview is not None:
            stored = run.preview
            return _matching_page(
                [previews.PreviewPair.from_list(row) for row in stored["pairs"]],
                [(int(r), str(reason), str(detail)) for r, reason, detail in stored["unmatched"]],
                run,
                total_km=float(stored.get("total_km", run.total_km)),
                prepared=True,
            )
    return _matching_page()


def _matching_page(
    previewed: list[previews.PreviewPair] | None = None,
    unmatched_rows: list[tuple[int, str, str]] | None = None,
    run=None,
    *,
    total_km: float = 0.0,
    prepared: bool = False,
    status: int = 200,
):
    pairs, unmatched, sealed = [], [], ""
    shown = previewed is not None
    if previewed is not None:
        unmatched_rows = unmatched_rows or []
        req_ids = [p.request_id for p in previewed] + [r for r, _, _ in unmatched_rows]
        reqs = details.requests_by_ref(db.session, req_ids)
        offers = details.offers_by_id(db.session, [p.offer_id for p in previewed])
        pairs = [(p, reqs.get(p.request_id), offers.get(p.offer_id)) for p in previewed]
        unmatched = [(r, reason, detail, reqs.get(r)) for r, reason, detail in unmatched_rows]
        sealed = _preview_seal().dumps([p.as_list() for p in previewed])
        form_size = len(sealed) + sum(len(f"&request={p.request_id}") for p in previewed)
        if form_size > current_app.config["MAX_CONTENT_LENGTH"] - 4096:
            sealed = ""  # too many pairs to post back: the page offers a fresh run instead
    return render_template(
        "dashboard/matching.html",
        runs=queues.recent_runs(db.session),
        shown=shown,
        prepared=prepared,
        run=run,
        total_km=total_km,
        pairs=pairs,
        unmatched=unmatched,
        sealed=sealed,
        review=current_app.config["MATCH_MODE"] == "review",
    ), status


def _plan_page(plan, run):
    """A coordinator's fresh preview."""
    return _matching_page(
        previews.pairs_of(plan),
        [(int(u.need[1:]), u.reason, u.detail) for u in plan.result.unmatched],
        run,
        total_km=plan.result.stats.total_km,
    )


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
    done = run_now(triggered_by=current_user.id, dry_run=True)
    if done is None:
        flash(_("Another matching run is in progress; try again in a moment."))
        return redirect(url_for("dashboard.matching"), code=303)
    run, plan = done
    return _plan_page(plan, run)


@bp.post("/matching/send")
@require("act")
def matching_send():
    """Without a preview: a full run, sent at once (all its proposals in this request's
    one transaction). With one: exactly the checked pairs of that preview (those still
    possible), and nothing for the unchecked requests."""
    if request.form.get("selection") == "1":
        return _send_previewed()
    done = run_now(triggered_by=current_user.id)
    if done is None:
        flash(_("Another matching run is in progress; try again in a moment."))
    else:
        run, _plan = done
        flash(
            _(
                "Matching run sent: %(proposed)s proposed, %(unmatched)s unmatched.",
                proposed=run.proposed,
                unmatched=run.unmatched,
            )
        )
    return redirect(url_for("dashboard.matching"), code=303)


SKIPPED_SHOWN = 20


def _send_previewed():
    back = redirect(url_for("dashboard.matching"), code=303)
    previewed = _previewed_pairs(request.form.get("plan", ""))
    if previewed is None:
        flash(
            _(
                "That preview can no longer be sent (older than an hour, or not a preview): preview again."  # noqa: E501 (one message id)
            )
        )
        return back
    kept = {query.whole_number(v) for v in request.form.getlist("request")} - {None}
    chosen = [p for p in previewed if p.request_id in kept]
    if not chosen:
        flash(_("No pair was kept: nothing sent."))
        return back
    if not hold_run_lock():
        flash(_("Another matching run is in progress; try again in a moment."))
        return back
    sent = previews.send_previewed(
        db.session,
        adapters.sms_context(),
        chosen,
        categories=_categories(),
        max_km=current_app.config["MAX_KM"],
        actor=current_user.actor,
        started_at=utcnow(),
        link_for=adapters.proposal_links(),
    )
    left_open = len(previewed) - len(chosen)
    flash(
        _(
            "Sent %(sent)s of the %(kept)s checked proposals as previewed; %(open)s unchecked requests left open.",  # noqa: E501 (one message id)
            sent=len(sent.proposed),
            kept=len(chosen),
            open=left_open,
        )
    )
    if sent.skipped:
        flash(_("%(n)s not sent, because the data changed since the preview:", n=len(sent.skipped)))
        for s in sent.skipped[:SKIPPED_SHOWN]:
            values = dict(s.values)
            if "state" in values:
                values["state"] = label("dash.state", values["state"])
            reason = label("dash.skip_reason", s.reason, **values)
            ref = s.ref or s.pair.request_id
            flash(
                _(
                    "%(ref)s with V%(offer)s: %(reason)s.",
                    ref=ref,
                    offer=s.pair.offer_id,
                    reason=reason,
                )
            )
        if len(sent.skipped) > SKIPPED_SHOWN:
            flash(_("… and %(n)s more (see the audit log).", n=len(sent.skipped) - SKIPPED_SHOWN))
    return back


# --- Map, figures, export, audit ------------------------------------------------------

MAP_W, MAP_H = 800, 600


@bp.get("/map", endpoint="map")
@require("read")
def map_page():
    category = request.args.get("category", "")
    category = category if category in _categories() else ""
    view = reports.map_view(db.session, width=MAP_W, height=MAP_H, category=category)
    points = view.points
    cats = list(_categories())
    return render_template(
        "dashboard/map.html",
        points=points,
        labels=view.labels,
        width=MAP_W,
        height=MAP_H,
        colour={c: i % 8 for i, c in enumerate(cats)},
        # Each category's own number, written on its marks and in the legend: colours
        # repeat after eight, and are not seen by everyone.
        number={c: i + 1 for i, c in enumerate(cats)},
        categories=_categories(),
        n_requests=sum(p.count for p in points if p.kind == "request"),
        n_volunteers=sum(p.count for p in points if p.kind == "volunteer"),
        chosen=category,
    )


@bp.get("/figures")
@require("read")
def figures():
    days_n = query.days(request.args)
    fig = reports.figures(
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
            (_("unknown") if a == "unknown" else a, n, served) for a, n, served in fig.by_area
        ],
        zip=zip,
    )


@bp.url_value_preprocessor
def _room_for_a_spreadsheet(endpoint: str | None, values: dict | None) -> None:
    """A spreadsheet may be larger than MAX_CONTENT_LENGTH: a coordinator posting one to the
    import page may send up to the import's own limit (before the CSRF check reads it)."""
    g.pop("_login_user", None)  # this request's account (web.auth forgets it later too)
    if (
        endpoint == "dashboard.import_page"
        and request.method == "POST"
        and current_user.is_authenticated
        and current_user.can("act")
    ):
        request.max_content_length = spreadsheets.MAX_BYTES + 64 * 1024
        request.max_form_memory_size = 64 * 1024


@bp.route("/import", methods=["GET", "POST"])
@require("act")
def import_page():
    """Bring in a spreadsheet of volunteers or requests (services.imports, as `mutualaid
    import` does): "preview" says row by row what would happen and writes nothing; "import"
    imports the file, all of it or nothing (audited)."""
    report, error, status = None, None, 200
    if request.method == "POST":
        kind = request.form.get("kind", "")
        upload = request.files.get("file")
        if kind not in spreadsheets.KINDS or upload is None or not upload.filename:
            error, status = _("Choose what you import and a file."), 422
        else:
            settings = imports.ImportSettings.from_config(current_app.config, _categories())
            try:
                report = imports.import_file(
                    db.session,
                    upload.read(),
                    kind,
                    filename=upload.filename.replace("\\", "/").rsplit("/", 1)[-1][:120],
                    settings=settings,
                    resolver=adapters.resolver(),
                    actor=current_user.actor,
                    overrides=spreadsheets.parse_overrides(
                        [line for line in request.form.get("map", "").splitlines() if line.strip()]
                    ),
                    dry_run=request.form.get("go") != "import",
                    skip_refused=bool(request.form.get("skip_refused")),
                    taken_by_phone=kind == "requests" and bool(request.form.get("taken_by_phone")),
                    sms=adapters.sms_context(),
                )
            except Refused as exc:  # nothing was written: the file could not be read
                error, status = _refusal(exc), 422
    return render_template(
        "dashboard/import.html", report=report, error=error, form=request.form
    ), status


@bp.get("/export")
@require("read")
def export():
    return render_template("dashboard/export.html", kinds=exports.EXPORTS)


def _csv(kind: str, seen_as: privacy.Privacy) -> Response:
    zone = ZoneInfo(current_app.config["TIMEZONE"])  # times as the pages show them

    def generate() -> Iterator[str]:
        out = io.StringIO()
        # Every cell quoted: a spreadsheet whose list separator is ";" never splits one.
        writer = csv.writer(out, quoting=csv.QUOTE_ALL)
        for row in exports.export_rows(db.session, kind, seen_as, tz=zone):
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
    """With contact details, for coordinators: audited like any reveal (committed with this
    request, before the rows stream)."""
    privacy.reveal(db.session, current_user.actor, subject_type=f"export:{kind}", subject_id=None)
    return _csv(kind, _privacy(True))


@bp.get("/audit")
@require("read")
def audit():
    f = query.audit_filter(request.args)
    rows, more = queues.audit_log(db.session, f)
    return render_template("dashboard/audit.html", rows=rows, more=more, f=f)


# --- Messages -------------------------------------------------------------------------


@bp.get("/messages")
@require("read")
def messages():
    return render_template(
        "dashboard/messages.html",
        rows=queues.failed_messages(db.session),
        privacy=_privacy(),
    )


@bp.post("/messages/search")
@require("act")
def message_search_results():
    """A search of the SMS log, for coordinators only: a list of hits answers "does any
    text say X" however the texts are masked, so a viewer could read them one guess at a
    time. Every search is audited (never what was looked for) and limited per account
    (MESSAGE_SEARCH_RATE_LIMIT). Posted, never in the address: what is searched for may
    be a phone number or a street. With ``reveal``, numbers and texts are shown in full,
    and that is audited like any reveal."""
    reveal = request.form.get("reveal") == "1"
    form = {k: request.form.get(k, "") for k in ("q", "phone", "before")}
    try:
        search = query.message_query(form, current_app.config["PHONE_REGION"])
    except Refused as exc:
        return render_template(
            "dashboard/message_search.html", form=form, error=_refusal(exc), results=None
        ), 422
    config = current_app.config
    key = limit_key(config["SECRET_KEY"], "message-search", str(current_user.account.id))
    limit = Limit(config["MESSAGE_SEARCH_RATE_LIMIT"], config["MESSAGE_SEARCH_RATE_WINDOW_SECONDS"])
    if not allowed(db.session, key, limit, now=utcnow()):
        return render_template(
            "dashboard/message_search.html",
            form=form,
            error=_(
                "You have searched many times in a short while. Please wait a few minutes and search again."  # noqa: E501 (one message id)
            ),
            results=None,
        ), 429  # the attempt counts (it is committed)
    results = message_search.search(db.session, search)
    message_search.audit_search(db.session, current_user.actor, search, results, revealed=reveal)
    if reveal:
        privacy.reveal(db.session, current_user.actor, subject_type="messages", subject_id=None)
    return render_template(
        "dashboard/message_search.html",
        form=form,
        error=None,
        results=results,
        query=search,
        privacy=_privacy(reveal),
    )


@bp.post("/messages/<int:message_id>/retry")
@require("act")
def message_retry(message_id: int):
    message = db.session.get(Message, message_id)
    if message is None:
        abort(404)
    again = messaging.retry_message(db.session, message, actor=current_user.actor)
    flash(
        _("Queued again.") if again is not None else _("Not a failed message, or already retried.")
    )
    return redirect(url_for("dashboard.messages"), code=303)


def _send_text(person, request_id: int | None) -> None:
    message = messaging.message_person(
        db.session,
        person,
        request.form.get("body", ""),
        actor=current_user.actor,
        request_id=request_id,
        now=utcnow(),
        whatsapp=bool(current_app.config["WHATSAPP_FROM"]),
    )
    sent = message is not None and message.status is MessageStatus.QUEUED
    flash(
        _("Message queued.")
        if sent
        else _("Stored, not sent: this person opted out or is blocked.")
    )


@bp.post("/requests/<int:request_id>/message")
@require("act")
@refusal_says(N_("Not sent: %(error)s."))
def request_message(request_id: int):
    req = _request_or_404(request_id)
    _send_text(req.requester, req.id)
    return _back_to_request(req.id)


@bp.post("/volunteers/<int:offer_id>/message")
@require("act")
@refusal_says(N_("Not sent: %(error)s."))
def volunteer_message(offer_id: int):
    offer = _offer_or_404(offer_id)
    _send_text(offer.person, None)
    return redirect(url_for("dashboard.volunteer_detail", offer_id=offer.id), code=303)


@bp.post("/requests/bulk")
@require("act")
def requests_bulk():
    """One action on the requests checked in the list: cancel, flag, or re-run matching
    for just them."""
    ids = sorted({query.whole_number(v) for v in request.form.getlist("request")} - {None})
    ids = ids[: queues.PAGE_SIZE]
    action = request.form.get("action", "")
    # only back to the list, never elsewhere
    back = redirect(_back_within("/dashboard/requests", "dashboard.requests"), code=303)
    if not ids or action not in {"cancel", "flag", "match"}:
        flash(_("Choose requests and an action."))
        return back
    if action == "match":
        done = run_now(triggered_by=current_user.id, only_requests=set(ids))
        if done is None:
            flash(_("Another matching run is in progress; try again in a moment."))
        else:
            flash(
                _(
                    "Matching run for %(n)s requests: %(proposed)s proposed.",
                    n=len(ids),
                    proposed=done[0].proposed,
                )
            )
        return back
    reqs = details.requests_by_ref(db.session, ids).values()
    actor = current_user.actor
    if action == "cancel":
        ctx = adapters.sms_context()
        changed = request_commands.cancel_many(db.session, ctx, reqs, actor=actor)
    else:
        reason = query.text_arg(request.form, "reason", 200) or _("flagged by a coordinator")
        changed = request_commands.flag_many(db.session, reqs, reason, actor=actor)
    if action == "cancel":
        flash(_("Cancelled: %(changed)s of %(n)s.", changed=changed, n=len(ids)))
    else:
        flash(_("Flagged: %(changed)s of %(n)s.", changed=changed, n=len(ids)))
    return back


@bp.post("/requests/<int:request_id>/merge")
@require("act")
def request_merge(request_id: int):
    """This request duplicates another: cancel it (its volunteer, if any, is told) and
    record where it went."""
    duplicate = _request_or_404(request_id)
    into = request_commands.merge(
        db.session,
        adapters.sms_context(),
        duplicate,
        request.form.get("into", ""),
        actor=current_user.actor,
    )
    flash(_("Merged into %(ref)s.", ref=into.ref))
    return _back_to_request(into.id)


@bp.post("/requests/<int:request_id>/edit")
@require("act")
@refusal_says(N_("Not changed: %(error)s."))
def request_edit(request_id: int):
    """Every field of an open request; the place as typed (a gazetteer name, ZIP, address or
    coordinates). Details are edited only from the revealed page (they are shown there);
    an empty address field leaves the address as it is."""
    req = _request_or_404(request_id)
    form = request.form
    urgency = form.get("urgency", "")
    address = query.text_arg(form, "address", 200) or None
    if form.get("remove_address") == "1":
        address = ""
    changed = request_commands.edit(
        db.session,
        req,
        categories=_categories(),
        actor=current_user.actor,
        changes=request_commands.Changes(
            category=form.get("category", ""),
            urgency=Urgency(urgency) if urgency in {u.value for u in Urgency} else None,
            details=form.get("details"),
            language=form.get("language") or None,
            address=address,
            location=query.text_arg(form, "location", 200) or None,
        ),
        resolver=adapters.resolver(),
        languages=current_app.config["LANGUAGES"],
    )
    flash(_("Request updated.") if changed else _("Nothing to change."))
    return _back_to_request(req.id)
