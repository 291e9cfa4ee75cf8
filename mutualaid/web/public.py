"""Public pages: ask for help, offer help, and the confirmations. Work without JavaScript."""

from __future__ import annotations

import datetime as dt

from flask import (
    Blueprint,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    session,
    url_for,
)
from flask_wtf.csrf import CSRFError

from mutualaid import adapters
from mutualaid.extensions import db
from mutualaid.models import Channel, Urgency, utcnow
from mutualaid.services import confirmation
from mutualaid.services.intake import InvalidInput, NewOffer, NewRequest
from mutualaid.services.limits import Limit, allowed, limit_key
from mutualaid.web.forms import OfferForm, RequestForm
from mutualaid.web.i18n import N_, current_language
from sms.phones import display, mask

bp = Blueprint("public", __name__)


def _form_options() -> dict:
    categories = current_app.extensions["categories"]
    lang = current_language()
    return {
        "phone_region": current_app.config["PHONE_REGION"],
        "categories": [(key, c.label(lang)) for key, c in categories.items()],
    }


@bp.get("/")
def index():
    config = current_app.config
    number = config["SERVICE_NUMBER"] or config["TWILIO_FROM"]
    shown = display(number, config["PHONE_REGION"]) if number else None
    return render_template("public/index.html", service_number=number, service_number_shown=shown)


@bp.get("/privacy")
def privacy():
    """What is kept, for how long, who sees it, and how to be erased."""
    return render_template("public/privacy.html", days=current_app.config["RETENTION_DAYS"])


def _intake_page(form, template: str, save):
    """Validate, store through ``save(form) -> confirmation``, then show the confirmation
    (303); or show the form again with its errors and what was typed (422). Too many
    posts from one address: 429, nothing stored. The post is counted against the
    address's limit even when the form is invalid: what ``save`` stored is undone alone
    (a savepoint) when it refuses the input, and the request's unit of work commits the
    count either way."""
    if form.is_submitted() and not _form_rate_ok():
        form.form_errors.append(
            N_(
                "Too many forms sent from here in a short time. Please wait a few minutes and try again; nothing you typed is lost."  # noqa: E501 (one message id)
            )
        )
        return render_template(template, form=form), 429
    if form.validate_on_submit():
        try:
            with db.session.begin_nested():
                confirmation = save(form)
        except InvalidInput as exc:
            getattr(form, exc.field).errors.append(N_("Please check this answer."))
        else:
            session["last_ref"] = confirmation
            return redirect(url_for("public.thanks"), code=303)
    status = 422 if form.is_submitted() else 200
    return render_template(template, form=form), status


def _form_rate_ok() -> bool:
    config = current_app.config
    limit = Limit(config["FORM_RATE_LIMIT"], config["FORM_RATE_WINDOW_SECONDS"])
    key = limit_key(config["SECRET_KEY"], "form", request.remote_addr or "unknown")
    return allowed(db.session, key, limit, now=utcnow())


def _submit(new: NewRequest | NewOffer) -> dict:
    """Nothing that acts on the person the form names: a pending submission, and a text to
    that number asking it to confirm (services.confirmation). The page shows the code."""
    config = current_app.config
    done = confirmation.submit(
        db.session,
        adapters.sms_context(),
        new,
        categories=current_app.extensions["categories"],
        ttl=dt.timedelta(minutes=config["SUBMISSION_TTL_MINUTES"]),
        secret=config["SECRET_KEY"],
    )
    return {
        "kind": "request" if isinstance(new, NewRequest) else "offer",
        "code": done.code,
        "phone": mask(new.phone),
        "minutes": config["SUBMISSION_TTL_MINUTES"],
    }


@bp.route("/request", methods=["GET", "POST"])
def request_help():
    def save(form: RequestForm) -> dict:
        return _submit(
            NewRequest(
                phone=form.phone.e164,
                category=form.category.data,
                details=form.details.data or "",
                location_text=form.location_text.data,
                address=form.address.data or "",
                urgency=Urgency(form.urgency.data),
                name=(form.name.data or "").strip(),
                language=current_language(),
                channel=Channel.WEB,
            )
        )

    return _intake_page(RequestForm(**_form_options()), "public/request.html", save)


@bp.route("/volunteer", methods=["GET", "POST"])
def volunteer():
    def save(form: OfferForm) -> dict:
        return _submit(
            NewOffer(
                phone=form.phone.e164,
                categories=tuple(form.categories.data),
                location_text=form.location_text.data,
                radius_km=float(form.radius_km.data),
                capacity=form.capacity.data,
                availability=form.availability.data or "",
                name=(form.name.data or "").strip(),
                language=current_language(),
            )
        )

    return _intake_page(OfferForm(**_form_options()), "public/volunteer.html", save)


@bp.app_errorhandler(CSRFError)
def form_expired(error: CSRFError):
    """A public form posted without a valid token (expired session, or a forged post):
    show the form again with what was typed, and say so. Nothing is stored."""
    pages = {
        "public.request_help": (RequestForm, "public/request.html"),
        "public.volunteer": (OfferForm, "public/volunteer.html"),
    }
    if request.endpoint not in pages:
        return render_template(
            "error.html", message=N_("The form expired. Please send it again.")
        ), 400
    form_class, template = pages[request.endpoint]
    form = form_class(formdata=request.form, **_form_options())
    form.form_errors.append(N_("The form expired. Please send it again."))
    return render_template(template, form=form), 400


@bp.get("/thanks")
def thanks():
    last = session.get("last_ref")
    if not last:
        abort(404)
    return render_template("public/thanks.html", last=last)
