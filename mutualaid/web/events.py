"""The audit log read as sentences: "Coordinator 3 cancelled request 12 (open → cancelled)",
each person, request, volunteer and match linked to its page, details as words."""

from __future__ import annotations

from typing import Any

from flask import url_for
from markupsafe import Markup, escape

from mutualaid.models import AuditEvent
from mutualaid.web.i18n import N_, detail_name, label, labelled, reason
from mutualaid.web.i18n import gettext as _

# An event's own sentence is dash.event.<action> ("request.cancelled" → dash.event.request
# .cancelled); one without is told by the generic sentence with its action in words.
_SUBJECTS = {
    "aid_requests": ("dashboard.request_detail", "request_id", N_("request %(id)s")),
    "offers": ("dashboard.volunteer_detail", "offer_id", N_("volunteer V%(id)s")),
    "people": ("dashboard.person_detail", "person_id", N_("person P%(id)s")),
}


def _link(endpoint: str, arg: str, key: str, subject_id: int) -> Markup:
    href = url_for(endpoint, **{arg: subject_id})
    return Markup('<a href="{}">{}</a>').format(href, _(key, id=subject_id))


def who(event: AuditEvent) -> Markup:
    if event.actor_type == "person" and event.actor_id:
        return _link(*_SUBJECTS["people"], event.actor_id)
    if event.actor_type == "coordinator" and event.actor_id:
        return escape(_("Coordinator %(id)s", id=event.actor_id))
    return escape(_("The system"))


def subject(event: AuditEvent) -> Markup:
    if event.subject_id is None:
        return escape(_("everything"))
    found = _SUBJECTS.get(event.subject_type)
    if found:
        return _link(*found, event.subject_id)
    if event.subject_type == "matches":
        return escape(_("match %(id)s", id=event.subject_id))
    return escape(f"{event.subject_type} {event.subject_id}")


def value(v: Any) -> str:
    """A detail as words: lists joined, numbers rounded, booleans said."""
    if isinstance(v, bool):
        return _("yes") if v else _("no")
    if isinstance(v, float):
        return f"{v:.1f}"
    if isinstance(v, list | tuple):
        return ", ".join(value(x) for x in v)
    if isinstance(v, dict):
        return "; ".join(f"{k} {value(x)}" for k, x in v.items())
    return str(v)


def _detail_value(key: str, v: Any) -> str:
    if key == "reason" and isinstance(v, str):
        return reason(v)
    if key in ("role", "channel", "urgency") and isinstance(v, str):
        group = {"role": "dash.role", "channel": "dash.channel", "urgency": "dash.urgency"}[key]
        return label(group, v)
    return value(v)


def sentence(event: AuditEvent) -> Markup:
    """The event as one sentence with links, its state change and details after it."""
    values = {"who": "\x00who\x00", "subject": "\x00subject\x00"}
    if labelled("dash.event", event.action):
        text = label("dash.event", event.action, **values)
    else:
        words = event.action.replace(".", " ").replace("_", " ")
        text = _("%(who)s: %(action)s, %(subject)s", action=words, **values)
    out = escape(text).replace("\x00who\x00", who(event)).replace("\x00subject\x00", subject(event))
    if event.from_state or event.to_state:
        change = " → ".join(x for x in (event.from_state, event.to_state) if x)
        out += Markup(" ({})").format(change if event.from_state else f"→ {change}")
    detail = event.detail or {}
    if detail:
        out += Markup(". ") + escape(
            "; ".join(f"{detail_name(k)}: {_detail_value(k, v)}" for k, v in detail.items())
        )
    return Markup(out)
