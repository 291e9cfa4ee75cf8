"""Item 2: a relay is addressed, never guessed. Nobody has to attack for this to go
wrong: a volunteer holding two tasks, or a requester with two volunteers, is enough."""

from __future__ import annotations

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


def test_a_text_that_starts_with_a_task_code_goes_to_that_task(app, client, session) -> None:
    vera = volunteer(session, VERA, capacity=2)
    rosas = accepted_task(session, ROSA, vera)
    accepted_task(session, BEA, vera)
    session.commit()

    text(client, app, VERA, f"{rosas.code} I'm outside with your bags")

    assert not any("outside" in body for body in bodies_to(session, BEA))
    (relayed,) = [body for body in bodies_to(session, ROSA) if "outside" in body]
    assert f"{rosas.code} I'm" not in relayed  # the code addressed it; it is not the message


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


def test_held_texts_wait_for_the_answer_by_number_in_the_persons_language(
    app, client, session
) -> None:
    vera = volunteer(session, VERA, capacity=2)
    accepted_task(session, ROSA, vera)
    beas = accepted_task(session, BEA, vera)
    vera.person.language = "es"
    session.commit()

    text(client, app, VERA, "Ya voy")
    text(client, app, VERA, "Llego en diez minutos")
    assert not any("voy" in body or "Llego" in body for body in bodies_to(session, ROSA))
    assert not any("voy" in body or "Llego" in body for body in bodies_to(session, BEA))
    asked = [b for b in bodies_to(session, VERA) if "tarea" in b and beas.code in b]
    assert asked and "2 " in asked[-1]

    text(client, app, VERA, "2")  # Bea's task is the second one listed
    to_bea = bodies_to(session, BEA)
    assert any("Ya voy" in body for body in to_bea)
    assert any("Llego en diez minutos" in body for body in to_bea)
    assert not any("voy" in body or "Llego" in body for body in bodies_to(session, ROSA))
    # Answered: the next plain text is held again, never sent to the last one chosen.
    text(client, app, VERA, "Otra cosa")
    assert not any("Otra cosa" in body for body in to_bea + bodies_to(session, BEA))
