"""Item 3: numbers never cross, whatever field they were typed into and however they are
written."""

from __future__ import annotations

import re

import pytest

from mutualaid.models import Role
from tests.abuse.helpers import (
    ROSA,
    VERA,
    accepted_task,
    bodies_to,
    confirm_own_number,
    longest_digit_run,
    match_now,
    message_part,
    volunteer,
)
from tests.sms_helpers import text
from tests.web.dashboard_helpers import logged_in

HER_OTHER_PHONE = re.compile(r"347\D{0,3}555\D{0,3}0142")
HER_SONS_PHONE = re.compile(r"917\D{0,3}555\D{0,3}0143")


def test_a_number_typed_into_the_name_or_address_reaches_no_one(app, client, session) -> None:
    volunteer(session, VERA)
    session.commit()
    client.post(
        "/request",
        data={
            "category": "groceries",
            "location_text": "11216",
            "address": "12 Canon Dr, or call my son 917-555-0143",
            "urgency": "soon",
            "name": "Rosa 347 555 0142",
            "phone": "718 555 0101",
        },
    )
    confirm_own_number(client, app, session, ROSA)
    match_now(app)
    text(client, app, VERA, "YES")
    text(client, app, ROSA, "Thank you so much, see you soon")

    to_vera = bodies_to(session, VERA)
    assert any("Canon" in body for body in to_vera)  # she accepted: she gets the address
    assert any("see you soon" in body for body in to_vera)  # and Rosa's relay
    for body in to_vera:
        assert not HER_OTHER_PHONE.search(body) and not HER_SONS_PHONE.search(body), body

    viewer = logged_in(app, session, Role.VIEWER)
    pages = [
        viewer.get("/dashboard/requests").get_data(as_text=True),
        viewer.get("/dashboard/requests/1").get_data(as_text=True),
        viewer.get("/dashboard/export/requests.csv").get_data(as_text=True),
    ]
    for page in pages:
        assert not HER_OTHER_PHONE.search(page) and not HER_SONS_PHONE.search(page)


SPLIT_AND_DISGUISED = [
    pytest.param(["call me at seven one eight five five five zero one zero one"], id="words-en"),
    pytest.param(["llámame al siete uno ocho cinco cinco cinco cero uno cero uno"], id="words-es"),
    pytest.param(["my other phone ⁷¹⁸⁵⁵⁵⁰¹⁰¹"], id="superscript"),
    pytest.param(["⑦①⑧-⑤⑤⑤-⓪①⓪①"], id="circled"),
    pytest.param(["𝟕𝟏𝟖 𝟓𝟓𝟓 𝟎𝟏𝟎𝟏"], id="mathematical"),
    pytest.param(["٧١٨٥٥٥٠١٠١"], id="arabic-indic"),
    pytest.param(["718_555_0101"], id="underscores"),
    pytest.param(["718,555,0101"], id="commas"),
    pytest.param(["718|555|0101"], id="bars"),
    pytest.param(["7 1 8 . 5 5 5 . 0 1 0 1"], id="spaced"),
    pytest.param(["seven1eight 555 oh one oh one"], id="mixed"),
    pytest.param(["my number is 718 555", "0101"], id="split-in-two"),
    pytest.param(["718", "555", "0101"], id="split-in-three"),
]


@pytest.mark.parametrize("texts", SPLIT_AND_DISGUISED)
def test_the_relay_never_carries_a_phone_number(app, client, session, texts) -> None:
    vera = volunteer(session, VERA)
    accepted_task(session, ROSA, vera)
    session.commit()
    for body in texts:
        text(client, app, ROSA, body)

    relayed = [message_part(b) for b in bodies_to(session, VERA)]
    assert relayed, "the texts were relayed"
    # What Vera read, one text after another, as she would read it.
    assert longest_digit_run(" ".join(relayed)) < 7, relayed
