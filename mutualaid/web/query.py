"""Reading what a browser or a program sent in a query string or a form, safely: whole
numbers a database column can hold, printable text of a bounded length, and the
dashboard's and the API's filters built from them (anything not allowed is dropped)."""

from __future__ import annotations

from collections.abc import Mapping

from mutualaid.models import Channel, RequestStatus, Urgency
from mutualaid.services.errors import Refused
from mutualaid.services.message_search import MAX_WORDS, MessageQuery
from mutualaid.services.queues import SORTS, AuditFilter, RequestFilter, VolunteerFilter
from sms.phones import InvalidPhoneNumber, normalize

MAX_ID = 2**31 - 1  # the largest id an integer column holds (PostgreSQL's)
MAX_DAYS = 365


def whole_number(text: str, top: int = MAX_ID) -> int | None:
    """``text`` as a whole number from 0 to ``top``, or None: only ASCII digits count
    (str.isdigit() accepts "²", which int() refuses), and nothing a database column cannot
    hold gets near a query."""
    if not (text.isascii() and text.isdigit()) or len(text) > 18:
        return None
    value = int(text)
    return value if value <= top else None


def text_arg(args: Mapping[str, str], name: str, limit: int) -> str:
    """A free-text query argument, trimmed, without control characters (PostgreSQL refuses
    a NUL byte even in a comparison: a 500, not "no match")."""
    value = "".join(ch for ch in args.get(name, "") if ch.isprintable())
    return value.strip()[:limit]


def request_filter(args: Mapping[str, str]) -> RequestFilter:
    def choice(name: str, allowed: set[str]) -> str:
        value = args.get(name, "")
        return value if value in allowed else ""

    def whole(name: str, default: int, top: int) -> int:
        value = whole_number(args.get(name, ""), top=10**12)
        return min(value, top) if value else default

    return RequestFilter(
        state=choice("state", {s.value for s in RequestStatus}),
        category=text_arg(args, "category", 40),
        urgency=choice("urgency", {u.value for u in Urgency}),
        channel=choice("channel", {c.value for c in Channel}),
        area=text_arg(args, "area", 120),
        flagged=args.get("flagged") == "1",
        older_than_hours=whole("older_than_hours", 0, 24 * 365),
        sort=choice("sort", set(SORTS)) or "newest",
        page=whole("page", 1, 100000),
    )


def volunteer_filter(args: Mapping[str, str]) -> VolunteerFilter:
    yes_no = {"yes", "no"}
    page = args.get("page", "")
    return VolunteerFilter(
        category=text_arg(args, "category", 40),
        vetted=args.get("vetted", "") if args.get("vetted") in yes_no else "",
        paused=args.get("paused", "") if args.get("paused") in yes_no else "",
        area=text_arg(args, "area", 120),
        room=args.get("room", "") if args.get("room") in yes_no else "",
        page=min(whole_number(page, top=10**12) or 1, 100000),
    )


def audit_filter(args: Mapping[str, str]) -> AuditFilter:
    def number(name: str) -> int | None:
        return whole_number(args.get(name, ""))

    return AuditFilter(
        actor_type=args.get("actor_type", "")
        if args.get("actor_type") in {"person", "coordinator", "system", "visitor"}
        else "",
        actor_id=number("actor_id"),
        action=text_arg(args, "action", 60),
        subject_type=text_arg(args, "subject_type", 40),
        subject_id=number("subject_id"),
        page=max(1, min(number("page") or 1, 100000)),
    )


def days(args: Mapping[str, str], default: int = 30) -> int:
    """How many days of figures: 1 to MAX_DAYS, ``default`` for anything else."""
    return min(whole_number(args.get("days", ""), top=10**6) or default, MAX_DAYS)


def message_query(form: Mapping[str, str], region: str) -> MessageQuery:
    """A search of the SMS log from a posted form. Raises Refused (with a sentence a person
    can act on) for a phone number that is not one, or for nothing to search for."""
    words = "".join(ch for ch in form.get("q", "") if ch.isprintable()).strip()[:MAX_WORDS]
    raw_phone = form.get("phone", "").strip()[:40]
    try:
        phone = normalize(raw_phone, region) if raw_phone else ""
    except InvalidPhoneNumber:
        raise Refused(
            "search_phone",
            f"that is not a phone number in region {region}: include the area code",
            region=region,
        ) from None
    if not words and not phone:
        raise Refused("search_nothing", "type some words or a phone number to search for")
    return MessageQuery(words, phone, whole_number(form.get("before", "")))
