"""What the abuse tests do as people do it: post forms, text, answer confirmations, read
what each person was sent."""

from __future__ import annotations

import re
import unicodedata

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy.orm import Session

from mutualaid.models import Match, MatchStatus, Offer, Person, Precision, RequestStatus
from tests import builders
from tests.sms_helpers import outbox, text

# People: a requester, volunteers, and the attacker's own phone.
ROSA = "+17185550101"
BEA = "+17185550102"
VERA = "+17185550111"
WALT = "+17185550112"
MALLORY = "+13475550199"

BED_STUY = (40.681, -73.944)  # 11216


def bodies_to(session: Session, phone: str) -> list[str]:
    """Everything queued to ``phone``, oldest first."""
    return [m.body for m in outbox(session, phone)]


def templates_to(session: Session, phone: str) -> list[str]:
    return [m.template or "" for m in outbox(session, phone)]


def digits_of(body: str) -> str:
    """The digits a reader sees in ``body``, whatever script or style they are written in
    (superscript, circled, Arabic-Indic …), separators dropped."""
    out = []
    for ch in unicodedata.normalize("NFKC", body):
        value = unicodedata.digit(ch, None)
        if value is not None:
            out.append(str(value))
    return "".join(out)


def confirm_own_number(client: FlaskClient, app: Flask, session: Session, phone: str) -> None:
    """A person who filled a form with their *own* number answers the confirmation text we
    sent them, if we sent one ("Reply YES 12345 …")."""
    for message in reversed(outbox(session, phone)):
        if (message.template or "").startswith("confirm"):
            code = re.search(r"YES (\d+)", message.body)
            assert code, message.body
            text(client, app, phone, f"YES {code.group(1)}")
            return


def match_now(app: Flask) -> str:
    """A coordinator-neutral matching run, as `mutualaid match` does it."""
    result = app.test_cli_runner().invoke(args=["match"])
    assert result.exit_code == 0, result.output
    return result.output


def volunteer(
    session: Session, phone: str, *, capacity: int = 1, name: str | None = None, **fields
) -> Offer:
    person = builders.person(session, phone=phone, name=name)
    lat, lon = fields.pop("at", BED_STUY)
    offer = builders.offer(
        session,
        person=person,
        lat=lat,
        lon=lon,
        capacity=capacity,
        categories=fields.pop("categories", ("groceries",)),
        **fields,
    )
    offer.location_text, offer.location_label = "11216", "11216 Brooklyn"
    offer.location_precision = Precision.POSTCODE
    return offer


def accepted_task(
    session: Session, requester: Person | str, offer: Offer, *, category: str = "groceries"
) -> Match:
    """A request of ``requester`` that ``offer``'s volunteer has said YES to."""
    if isinstance(requester, str):
        requester = _person(session, requester)
    req = builders.aid_request(
        session,
        requester=requester,
        category=category,
        status=RequestStatus.MATCHED,
        lat=BED_STUY[0],
        lon=BED_STUY[1],
        location_precision=Precision.POSTCODE,
        location_label="11216 Brooklyn",
        location_text="11216",
    )
    return builders.match(session, request=req, offer=offer, status=MatchStatus.ACCEPTED)


def _person(session: Session, phone: str) -> Person:
    from sqlalchemy import select

    found = session.scalar(select(Person).where(Person.phone == phone))
    return found or builders.person(session, phone=phone)


# What a reader takes for digits: numerals of any script or style, and number words.
_SPOKEN = {
    **dict.fromkeys(("zero", "oh", "cero"), "0"),
    **dict.fromkeys(("one", "uno", "una"), "1"),
    **dict.fromkeys(("two", "dos"), "2"),
    **dict.fromkeys(("three", "tres"), "3"),
    **dict.fromkeys(("four", "cuatro"), "4"),
    **dict.fromkeys(("five", "cinco"), "5"),
    **dict.fromkeys(("six", "seis"), "6"),
    **dict.fromkeys(("seven", "siete"), "7"),
    **dict.fromkeys(("eight", "ocho"), "8"),
    **dict.fromkeys(("nine", "nueve"), "9"),
}
_TOKENS = re.compile(r"\w+", re.UNICODE)


def longest_digit_run(text: str) -> int:
    """The most digits a reader can read in a row in ``text``: digits and number words,
    with anything that is neither a letter nor a digit between them ("718_555 | 0101")."""
    folded = unicodedata.normalize("NFKC", text)
    longest = run = 0
    for word in _TOKENS.findall(folded):
        word = "".join(
            str(unicodedata.digit(ch)) if unicodedata.digit(ch, None) is not None else ch
            for ch in word
        )
        if word.isascii() and word.isdigit():
            run += len(word)
        elif word.casefold() in _SPOKEN:
            run += 1
        else:
            run = 0
        longest = max(longest, run)
    return longest


def message_part(relay_body: str) -> str:
    """What a person wrote, out of a relayed text ("Rosa (task 4821): <message>")."""
    return relay_body.split("): ", 1)[-1]
