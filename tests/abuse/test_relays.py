"""Item 2: a relay is addressed, never guessed. Nobody has to attack for this to go
wrong: a volunteer holding two tasks, or a requester with two volunteers, is enough."""

from __future__ import annotations

import pytest

from tests.abuse.helpers import (
    BEA,
    ROSA,
    VERA,
    WALT,
    accepted_task,
    bodies_to,
    templates_to,
    volunteer,
)
from tests.sms_helpers import text


@pytest.mark.xfail(strict=True, reason="issue 12 item 2: not built yet")
def test_a_volunteer_with_two_tasks_answers_the_requester_who_wrote(app, client, session) -> None:
    vera = volunteer(session, VERA, capacity=2)
    rosas = accepted_task(session, ROSA, vera)
    accepted_task(session, BEA, vera)  # the newer task
    session.commit()

    text(client, app, ROSA, "My address is 12 Canon Dr, ring 4B")
    assert any("Canon" in body for body in bodies_to(session, VERA))
    text(client, app, VERA, "On my way, see you in 10 minutes")

    assert not any("On my way" in body for body in bodies_to(session, BEA))
    # Vera is asked which task she means; her answer sends it to Rosa.
    assert "relay_which" in templates_to(session, VERA)
    text(client, app, VERA, rosas.code)
    assert any("On my way" in body for body in bodies_to(session, ROSA))
    assert not any("On my way" in body for body in bodies_to(session, BEA))


@pytest.mark.xfail(strict=True, reason="issue 12 item 2: not built yet")
def test_a_text_that_starts_with_a_task_code_goes_to_that_task(app, client, session) -> None:
    vera = volunteer(session, VERA, capacity=2)
    rosas = accepted_task(session, ROSA, vera)
    accepted_task(session, BEA, vera)
    session.commit()

    text(client, app, VERA, f"{rosas.code} I'm outside with your bags")

    assert not any("outside" in body for body in bodies_to(session, BEA))
    (relayed,) = [body for body in bodies_to(session, ROSA) if "outside" in body]
    assert f"{rosas.code} I'm" not in relayed  # the code addressed it; it is not the message


@pytest.mark.xfail(strict=True, reason="issue 12 item 2: not built yet")
def test_a_requester_with_two_volunteers_answers_the_one_who_wrote(app, client, session) -> None:
    vera = volunteer(session, VERA)
    walt = volunteer(session, WALT)
    veras = accepted_task(session, ROSA, vera)
    accepted_task(session, ROSA, walt, category="rides")  # the newer one
    session.commit()

    text(client, app, VERA, "Which door should I use?")
    assert any("Which door" in body for body in bodies_to(session, ROSA))
    text(client, app, ROSA, "Side door please, the code is 4417")

    assert not any("4417" in body for body in bodies_to(session, WALT))
    assert "relay_which" in templates_to(session, ROSA)
    text(client, app, ROSA, veras.code)
    assert any("4417" in body for body in bodies_to(session, VERA))
    assert not any("4417" in body for body in bodies_to(session, WALT))
