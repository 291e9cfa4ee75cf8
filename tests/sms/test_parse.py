"""The SMS parser against real-looking messages: typos, slang, Spanish, emoji, look-alikes."""

from __future__ import annotations

from typing import Any

import pytest

from sms.parse import Command, Intent, Keywords, parse

NEED, OFFER, YES, NO, DONE = Intent.NEED, Intent.OFFER, Intent.YES, Intent.NO, Intent.DONE
CANCEL, STATUS, PAUSE, RESUME = Intent.CANCEL, Intent.STATUS, Intent.PAUSE, Intent.RESUME
HELP, STOP, START, HUMAN = Intent.HELP, Intent.STOP, Intent.START, Intent.HUMAN
CHOICE, TEXT = Intent.CHOICE, Intent.TEXT

ARGUMENT_DEFAULTS: dict[str, Any] = {
    "categories": (),
    "location_text": None,
    "radius_km": None,
    "code": None,
    "urgent": False,
}


def case(body: str, intent: Intent, **expected: Any) -> Any:
    """One row: the body, its intent, and the arguments that must come out.

    Arguments not named must be empty (no categories, place, radius, code,
    not urgent); ``language`` is checked only when named.
    """
    return pytest.param(body, intent, expected, id=f"{intent.value}:{body!r}"[:60])


def check(command: Command, intent: Intent, expected: dict[str, Any]) -> None:
    wanted = {**ARGUMENT_DEFAULTS, **expected}
    got = {name: getattr(command, name) for name in wanted}
    if "categories" in expected:
        wanted["categories"] = tuple(wanted["categories"])
    if wanted["radius_km"] is not None:
        got["radius_km"] = round(got["radius_km"] or 0, 2)
    assert (command.intent, got) == (intent, wanted), command


MESSAGES = [
    # need, English
    case(
        "need groceries 11216", NEED, categories=["groceries"], location_text="11216", language="en"
    ),
    case("NEED GROCERIES 11216", NEED, categories=["groceries"], location_text="11216"),
    case("Need groceries, 11216.", NEED, categories=["groceries"], location_text="11216"),
    case("  need   groceries    11216  ", NEED, categories=["groceries"], location_text="11216"),
    case(
        "I need food in Crown Heights",
        NEED,
        categories=["groceries"],
        location_text="Crown Heights",
    ),
    case(
        "i need meds near Fulton St & Nostrand Ave",
        NEED,
        categories=["pharmacy"],
        location_text="Fulton St & Nostrand Ave",
    ),
    case(
        "need a ride to my doctor tomorrow 11233", NEED, categories=["rides"], location_text="11233"
    ),
    case("need help with laundry 11221", NEED, categories=["errands"], location_text="11221"),
    case("help with groceries pls 11216", NEED, categories=["groceries"], location_text="11216"),
    case(
        "help me get my prescription, I'm in 11225",
        NEED,
        categories=["pharmacy"],
        location_text="11225",
    ),
    case("help my fridge is empty", NEED, language="en"),
    case(
        "Hi, my name is Ana and I need food in Crown Heights asap",
        NEED,
        categories=["groceries"],
        location_text="Crown Heights",
        urgent=True,
    ),
    case(
        "need groceries urgent 11216",
        NEED,
        categories=["groceries"],
        location_text="11216",
        urgent=True,
    ),
    case(
        "URGENT need medicine 11216",
        NEED,
        categories=["pharmacy"],
        location_text="11216",
        urgent=True,
    ),
    case(
        "we need diapers and food for the baby near 11207",
        NEED,
        categories=["groceries"],
        location_text="11207",
    ),
    case("need babysitter tonight 11216", NEED, categories=["childcare"], location_text="11216"),
    case("nede groceries 11216", NEED, categories=["groceries"], location_text="11216"),
    case("neeeed food 11216", NEED, categories=["groceries"], location_text="11216"),
    case("need grocerys 11216", NEED, categories=["groceries"], location_text="11216"),
    case(
        "need groceries 40.6782,-73.9442",
        NEED,
        categories=["groceries"],
        location_text="40.6782,-73.9442",
    ),
    case(
        "need food @ 40.6782, -73.9442 pls",
        NEED,
        categories=["groceries"],
        location_text="40.6782,-73.9442",
    ),
    case("could really use some help with groceries this week", NEED, categories=["groceries"]),
    case("need someone to walk my dog", NEED),
    case("need groceries for my mom who is sick", NEED, categories=["groceries"]),
    case("need help", NEED, language="en"),
    case("Need help!", NEED),
    case("sos need food 11216", NEED, categories=["groceries"], location_text="11216", urgent=True),
    case("need: rides. zip 11203", NEED, categories=["rides"], location_text="11203"),
    case("need food 11216-1234", NEED, categories=["groceries"], location_text="11216"),
    case("I need a check in call, I live alone", NEED, categories=["checkin"]),
    case("i dont need groceries, i need a ride", NEED, categories=["rides"]),
    case("can you help me? I'm stuck at home with no food", NEED, categories=["groceries"]),
    case("can u help me w groceries", NEED, categories=["groceries"]),
    case("i need a ride 2 the doctor tmrw", NEED, categories=["rides"]),
    case(
        "Can you help my neighbor? She's 90 and needs groceries, 11216",
        NEED,
        categories=["groceries"],
        location_text="11216",
    ),
    case("not urgent, need meds 11216", NEED, categories=["pharmacy"], location_text="11216"),
    case(
        "need groceries, address: 45 Rogers Ave, Brooklyn",
        NEED,
        categories=["groceries"],
        location_text="45 Rogers Ave, Brooklyn",
    ),
    case(
        "i need food. my address is 123 Main St. apt 4B",
        NEED,
        categories=["groceries"],
        location_text="123 Main St. apt 4B",
    ),
    case("ｎｅｅｄ ｆｏｏｄ １１２１６", NEED, categories=["groceries"], location_text="11216"),
    case("need food 🍎🍞 11216", NEED, categories=["groceries"], location_text="11216"),
    case("Need groceries in Bed-Stuy", NEED, categories=["groceries"], location_text="Bed-Stuy"),
    # need, Spanish and Spanglish
    case(
        "necesito comida 11216",
        NEED,
        categories=["groceries"],
        location_text="11216",
        language="es",
    ),
    case("NECESITO comida", NEED, categories=["groceries"], language="es"),
    case(
        "necesito medicina cerca de Fulton St",
        NEED,
        categories=["pharmacy"],
        location_text="Fulton St",
        language="es",
    ),
    case(
        "Necesito medicinas para mi mamá, estamos en Bushwick",
        NEED,
        categories=["pharmacy"],
        location_text="Bushwick",
    ),
    case(
        "nesesito comida urgente 11207",
        NEED,
        categories=["groceries"],
        location_text="11207",
        urgent=True,
    ),
    case(
        "ayuda con mandados en Sunset Park",
        NEED,
        categories=["groceries"],
        location_text="Sunset Park",
    ),
    case("necesito un aventón al hospital mañana", NEED, categories=["rides"], language="es"),
    case(
        "Hola, necesito ayuda con comida para mis hijos. Vivo en el 11221",
        NEED,
        categories=["groceries"],
        location_text="11221",
    ),
    case("me hace falta comida", NEED, categories=["groceries"], language="es"),
    case("ocupo comida", NEED, categories=["groceries"], language="es"),
    case("necesito que alguien me lleve al doctor", NEED, categories=["rides"], language="es"),
    case(
        "busco ayuda para limpieza de casa 11216",
        NEED,
        categories=["household"],
        location_text="11216",
    ),
    case(
        "necesito groceries 11216",
        NEED,
        categories=["groceries"],
        location_text="11216",
        language="es",
    ),
    case(
        "I need comida en el Bronx",
        NEED,
        categories=["groceries"],
        location_text="Bronx",
        language="en",
    ),
    case("NECESITO MEDICINAS URGENTE", NEED, categories=["pharmacy"], urgent=True, language="es"),
    case(
        "necesito comida cerca de la calle Fulton y Nostrand",
        NEED,
        categories=["groceries"],
        location_text="calle Fulton y Nostrand",
    ),
    case("ayudame con la farmacia porfa", NEED, categories=["pharmacy"], language="es"),
    case("necesito ayuda en casa", NEED, categories=["household"], language="es"),
    case("necesitamos comida caliente", NEED, categories=["groceries"], language="es"),
    case("need groceries bushwick", NEED, categories=["groceries"]),
    case("need groceries Bushwick", NEED, categories=["groceries"], location_text="Bushwick"),
    case(
        "need groceries 45 rogers ave",
        NEED,
        categories=["groceries"],
        location_text="45 rogers ave",
    ),
    case("NEED GROCERIES BUSHWICK", NEED, categories=["groceries"]),
    # offer
    case(
        "offer rides groceries 11216 5km",
        OFFER,
        categories=["rides", "groceries"],
        location_text="11216",
        radius_km=5.0,
        language="en",
    ),
    case(
        "OFREZCO comida 5 km Bushwick",
        OFFER,
        categories=["groceries"],
        location_text="Bushwick",
        radius_km=5.0,
        language="es",
    ),
    case(
        "offer groceries within 3 miles of 11216",
        OFFER,
        categories=["groceries"],
        location_text="11216",
        radius_km=4.83,
    ),
    case(
        "I can help with rides and groceries in Crown Heights, up to 3 miles",
        OFFER,
        categories=["rides", "groceries"],
        location_text="Crown Heights",
        radius_km=4.83,
    ),
    case(
        "within 3 miles of Bushwick I can help with groceries",
        OFFER,
        categories=["groceries"],
        location_text="Bushwick",
        radius_km=4.83,
    ),
    case("volunteer", OFFER, language="en"),
    case("i want to volunteer", OFFER),
    case(
        "I'd like to help with errands around Park Slope",
        OFFER,
        categories=["errands"],
        location_text="Park Slope",
    ),
    case("ofer rides 11216", OFFER, categories=["rides"], location_text="11216"),
    case(
        "puedo ayudar con mandados y farmacia en Bushwick 2km",
        OFFER,
        categories=["groceries", "pharmacy"],
        location_text="Bushwick",
        radius_km=2.0,
        language="es",
    ),
    case("quiero ayudar", OFFER, language="es"),
    case(
        "me ofrezco de voluntaria, tengo carro, 10 millas",
        OFFER,
        categories=["rides"],
        radius_km=16.09,
    ),
    case(
        "offer: rides, 11216, 5mi",
        OFFER,
        categories=["rides"],
        location_text="11216",
        radius_km=8.05,
    ),
    case(
        "Offering meals and check-in calls, 2.5 km from 11238",
        OFFER,
        categories=["meals", "checkin"],
        location_text="11238",
        radius_km=2.5,
    ),
    case(
        "i can drive people to appointments, 11216, 10km",
        OFFER,
        categories=["rides"],
        location_text="11216",
        radius_km=10.0,
    ),
    case("want to help", OFFER),
    case("OFREZCO", OFFER, language="es"),
    case(
        "Ofrezco transporte y cuidado de niños, 3 km de 11216",
        OFFER,
        categories=["rides", "childcare"],
        location_text="11216",
        radius_km=3.0,
    ),
    case(
        "offer groceries 2,5 km 11216",
        OFFER,
        categories=["groceries"],
        location_text="11216",
        radius_km=2.5,
    ),
    # yes
    case("YES 4821", YES, code="4821", language="en"),
    case("yes", YES, language="en"),
    case("Yes!", YES),
    case("yse", YES, language="en"),
    case("yesss", YES),
    case("Y", YES),
    case("si 4821", YES, code="4821", language="es"),
    case("Sí", YES, language="es"),
    case("SII", YES, language="es"),
    case("si, 4821", YES, code="4821"),
    case("ok", YES, language=None),
    case("okay 4821", YES, code="4821"),
    case("👍", YES, language=None),
    case("👍🏽", YES),
    case("yes 4821 on my way", YES, code="4821"),
    case("4821 yes", YES, code="4821"),
    case("YES4821", YES, code="4821"),
    case("sure, I can do it", YES),
    case("claro que si", YES, language="es"),
    case("dale", YES, language="es"),
    case("Yes I can help", YES),
    case("ＹＥＳ ４８２１", YES, code="4821"),
    case("yes #4821", YES, code="4821"),
    case("yes code 4821", YES, code="4821"),
    case("no problem", YES, language="en"),
    case("count me in", YES),
    case("Y 4821", YES, code="4821"),
    case("Yes please!! 🙏", YES),
    case("yeah i got it 4821", YES, code="4821"),
    case("si claro 4821", YES, code="4821", language="es"),
    case("yes see you at 3", YES),
    # no
    case("no", NO, language=None),
    case("NO 4821", NO, code="4821"),
    case("noo", NO),
    case("nope", NO, language="en"),
    case("no thanks", NO),
    case("no gracias", NO, language="es"),
    case("no puedo", NO, language="es"),
    case("can't help sorry", NO, language="en"),
    case("sorry can't make it 4821", NO, code="4821"),
    case("not today", NO),
    case("No, I need groceries", NO),
    case("nah", NO),
    case("👎", NO),
    case("no puedo ayudar esta vez", NO, language="es"),
    case("no 4821 lo siento", NO, code="4821"),
    case("I can't do it today sorry 4821", NO, code="4821"),
    # done
    case("done", DONE, language="en"),
    case("DONE 4821", DONE, code="4821"),
    case("dnoe", DONE),
    case("listo", DONE, language="es"),
    case("listo 4821", DONE, code="4821", language="es"),
    case("all done! delivered the groceries", DONE),
    case("ya termine", DONE, language="es"),
    case("Delivered 4821 👍", DONE, code="4821"),
    case("terminé", DONE, language="es"),
    case("DONE 𝟒𝟖𝟐𝟏", DONE, code="4821"),
    # cancel, and needs negated with a no-longer marker
    case("cancel", CANCEL, language="en"),
    case("CANCEL K7Q2", CANCEL, code="K7Q2"),
    case("cancelar", CANCEL, language="es"),
    case("please cancel my request", CANCEL),
    case("no need anymore", CANCEL, language="en"),
    case("I don't need it anymore, thanks", CANCEL),
    case("ya no necesito ayuda", CANCEL, language="es"),
    case("I want to cancel my request", CANCEL),
    case("cancle", CANCEL),
    case("no longer need groceries", CANCEL),
    case("ya no hace falta, gracias", CANCEL, language="es"),
    # status
    case("status", STATUS, language=None),
    case("STATUS?", STATUS),
    case("estado", STATUS, language="es"),
    case("any update?", STATUS),
    case("statsu", STATUS),
    case("status K7Q2", STATUS, code="K7Q2"),
    case("como va mi pedido?", STATUS, language="es"),
    # pause / resume
    case("pause", PAUSE, language="en"),
    case("PAUSA", PAUSE, language="es"),
    case("pause me for a week", PAUSE),
    case("resume", RESUME, language="en"),
    case("I'm back", RESUME),
    case("reanudar", RESUME, language="es"),
    case("unpause", RESUME),
    case("I'm available again", RESUME),
    # help
    case("help", HELP),  # English and every other language: the stored one decides
    case("HELP!!", HELP),
    case("?", HELP),
    case("ayuda", HELP, language="es"),
    case("info", HELP, language=None),
    case("hlep", HELP),
    case("help me", HELP),
    case("AYUDA", HELP),
    # stop: generous for short or explicit opt-outs
    case("STOP", STOP),
    case("stop", STOP),
    case("Stop.", STOP),
    case("STOP!!!", STOP),
    case("stpo", STOP),
    case("ЅТОР", STOP),
    case("ＳＴＯＰ", STOP),
    case("st0p", STOP),
    case("S\u200btop", STOP),
    case("stop texting me", STOP),
    case("please stop sending me these messages", STOP),
    case("unsubscribe", STOP),
    case("UNSUBSCRIBE ME NOW", STOP),
    case("baja", STOP, language="es"),
    case("BAJA por favor", STOP, language="es"),
    case("parar", STOP, language="es"),
    case("no mas mensajes", STOP, language="es"),
    case("No más mensajes por favor", STOP),
    case("dejen de escribirme", STOP),
    case("quit", STOP),
    case("end", STOP),
    case("stop it", STOP),
    case("Stop 🛑", STOP),
    case("remove me from this list", STOP),
    case("how do i unsubscribe?", STOP),
    case("para", STOP, language="es"),
    case("I don't need help anymore, please stop texting me", STOP),
    case("who is this? stop", STOP),
    case("Thanks for the help. Stop.", STOP),
    # ... but not by accident
    case("Stop by the store on 5th and get milk please", TEXT, location_text="5th"),
    case(
        "I told my neighbor to stop worrying, we got the groceries", TEXT, categories=["groceries"]
    ),
    case("don't stop texting me, this is great", TEXT),
    case("para mi mamá", TEXT),
    case("shop", TEXT),
    case("I told him to stop. He didn't.", TEXT),
    # start
    case("start", START),
    case("START", START),
    case("unstop", START),
    case("alta", START, language="es"),
    # human
    case("HUMAN", HUMAN, language="en"),
    case("persona", HUMAN, language="es"),
    case("talk to a person", HUMAN),
    case("I need to talk to a real person please", HUMAN),
    case("quiero hablar con alguien", HUMAN, language="es"),
    case("can I speak to someone?", HUMAN),
    case("humna", HUMAN),
    case("operator", HUMAN),
    # free text, empty and odd bodies
    case("", TEXT),
    case("   ", TEXT),
    case("\n\t", TEXT),
    case("thanks!", TEXT),
    case("🙏", TEXT),
    case("11216", TEXT, location_text="11216"),
    case("I'm at Fulton and Nostrand", TEXT, location_text="Fulton and Nostrand"),
    case("what is this?", TEXT),
    case("who is this", TEXT),
    case("groceries", TEXT, categories=["groceries"]),
    case("ok thanks see you at 3", TEXT),
    case("On my way!", TEXT),
    case("Can you call me at 718-555-0101?", TEXT, categories=["checkin"]),
    case("lol", TEXT),
    case("wat", TEXT),
    case("2", TEXT),
    case("Who are you people? I never signed up", TEXT),
    case("שלום, אני צריך עזרה", TEXT),  # a language no catalogue has
    case("مرحبا، أحتاج مساعدة", NEED, language="ar"),
    case("help\x00 me", HELP),
    case("Y\u200bES", YES),
    case("ΥΕЅ", YES),
    case("I don't need help", TEXT),
    case("stat", TEXT),
    case("ned food", TEXT, categories=["groceries"]),
    case("not sure", TEXT),
    case("I'm outside, ring 4B?", TEXT),
]


@pytest.mark.parametrize(("body", "intent", "expected"), MESSAGES)
def test_message_table(
    body: str,
    intent: Intent,
    expected: dict[str, Any],
    keywords: Keywords,
    categories: dict[str, list[str]],
) -> None:
    check(parse(body, keywords=keywords, categories=categories), intent, expected)


def test_the_table_is_big_enough() -> None:
    assert len(MESSAGES) >= 150
    assert len({p.values[0] for p in MESSAGES}) == len(MESSAGES), "duplicate rows"
