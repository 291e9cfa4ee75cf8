"""Reading instances: the batch path and the record-by-record path agree."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from matching import _instance as instance
from matching import generate_instance, parse_instance


def by_records(doc):
    needs = instance._each("need", doc["needs"], instance._need)
    vols = instance._each("volunteer", doc["volunteers"], instance._volunteer)
    return needs, vols


@pytest.mark.parametrize(("city", "seed"), [("metro", 1), ("country", 2)])
def test_batch_and_per_record_paths_read_the_same_records(city, seed):
    doc = json.loads(json.dumps(generate_instance(300, 200, city, seed)))
    doc["needs"][0] |= {"exclude": ["v1", "v2"], "needs_vetted": True, "waited_hours": 3}
    doc["volunteers"][0] |= {"vetted": True, "penalty": 0.5, "capacity": 0}
    needs, vols, _ = parse_instance(doc)
    assert (needs, vols) == by_records(doc)


@pytest.mark.parametrize(
    ("where", "change", "message"),
    [
        ("needs", {"lat": 91}, "need #3 (id 'r3'): lat 91 is out of range"),
        ("needs", {"lat": True}, "need #3 (id 'r3'): lat must be a finite number"),
        ("needs", {"urgency": "asap"}, "need #3 (id 'r3'): urgency must be one of"),
        # Not hashable: the batch path's set of urgencies once raised TypeError here.
        ("needs", {"urgency": [1]}, "need #3 (id 'r3'): urgency must be a non-empty string"),
        ("needs", {"urgency": {"a": 1}}, "need #3 (id 'r3'): urgency must be a non-empty"),
        ("needs", {"exclude": [["v1"]]}, "need #3 (id 'r3'): exclude must be a list of"),
        ("volunteers", {"capacity": True}, "volunteer #3 (id 'v3'): capacity must be a"),
        ("volunteers", {"capacity": 2**70}, "volunteer #3 (id 'v3'): capacity 118059162071"),
        ("volunteers", {"categories": [[1]]}, "volunteer #3 (id 'v3'): categories must be a"),
        ("needs", {"exclude": "v1"}, "need #3 (id 'r3'): exclude must be a list"),
        ("volunteers", {"capacity": 1.5}, "volunteer #3 (id 'v3'): capacity must be a whole"),
        ("volunteers", {"radius_km": -1}, "volunteer #3 (id 'v3'): radius_km -1 is out of"),
        ("volunteers", {"colour": "red"}, "volunteer #3 (id 'v3'): unknown field(s) ['colour']"),
    ],
)
def test_a_bad_record_is_named_whichever_path_reads_it(where, change, message):
    doc = {
        "needs": [
            {"id": f"r{k}", "lat": 40.7, "lon": -73.9, "category": "rides"} for k in range(5)
        ],
        "volunteers": [
            {"id": f"v{k}", "lat": 40.7, "lon": -73.9, "categories": ["rides"], "radius_km": 5}
            for k in range(5)
        ],
    }
    doc[where][3] |= change
    with pytest.raises(
        ValueError,
        match=message.replace("(", r"\(")
        .replace(")", r"\)")
        .replace("[", r"\[")
        .replace("]", r"\]"),
    ):
        parse_instance(doc)


def test_a_whole_number_written_as_a_float_is_still_a_capacity():
    doc = {
        "needs": [],
        "volunteers": [
            {"id": "v1", "lat": 0, "lon": 0, "categories": ["x"], "radius_km": 1, "capacity": 2.0}
        ],
    }
    _, vols, _ = parse_instance(doc)
    assert vols[0].capacity == 2 and type(vols[0].capacity) is int


# -- loads_instance: from the text, a chunk at a time ---------------------------------------

# Ids and categories from a few characters that JSON and the chunk cuts treat specially:
# repeats (duplicates, also across chunks) and strings holding "},{" or "}]".
_TRICKY = st.text(alphabet='r1}{],[" \\\n', min_size=1, max_size=6)


def _need_record(draw) -> dict:
    rec = {
        "id": draw(st.one_of(st.sampled_from(["r1", "r2", "r3"]), _TRICKY)),
        "lat": draw(st.sampled_from([40.7, 0, -90, 90, 91, True, "40", 1e308])),
        "lon": draw(st.sampled_from([-73.9, 180, -180.5, None])),
        "category": draw(st.sampled_from(["rides", "groceries", "", "x},{y"])),
    }
    extra = draw(
        st.sampled_from(
            [
                {},
                {"urgency": "urgent"},
                {"urgency": "asap"},
                {"exclude": ["v1", "v}]"]},
                {"exclude": [{"nested": {"a": [1]}}]},
                {"waited_hours": 12.5},
                {"needs_vetted": True},
                {"colour": "red"},
            ]
        )
    )
    return rec | extra


def _volunteer_record(draw) -> dict:
    rec = {
        "id": draw(st.one_of(st.sampled_from(["v1", "v2", "v3"]), _TRICKY)),
        "lat": draw(st.sampled_from([40.7, 45, -91])),
        "lon": draw(st.sampled_from([-73.9, 0])),
        "categories": draw(st.sampled_from([["rides"], ["rides", "groceries"], [], "rides"])),
        "radius_km": draw(st.sampled_from([5, 0.5, -1, 1e9])),
    }
    extra = draw(
        st.sampled_from(
            [{}, {"capacity": 3}, {"capacity": 2.0}, {"capacity": 1.5}, {"penalty": 0.25}]
        )
    )
    return rec | extra


@st.composite
def instance_texts(draw) -> str:
    """Instance texts, mostly valid, often not: bad records, repeated ids, ids that look
    like the cuts between records, keys in any order or repeated, odd whitespace, junk."""
    plain = draw(st.booleans())
    needs = [
        {"id": f"r{k}", "lat": 40.7, "lon": -73.9, "category": "rides"}
        if plain
        else _need_record(draw)
        for k in range(draw(st.integers(0, 12)))
    ]
    vols = [
        {"id": f"v{k}", "lat": 40.7, "lon": -73.9, "categories": ["rides"], "radius_km": 5}
        if plain
        else _volunteer_record(draw)
        for k in range(draw(st.integers(0, 12)))
    ]
    items = [("needs", needs), ("volunteers", vols)]
    items += draw(
        st.sampled_from(
            [[], [("settings", {"max_km": 10})], [("settings", {"max_km": -1})],
             [("settings", [])], [("colour", 1)], [("needs", [])], [("volunteers", 3)]]
        )
    )  # fmt: skip
    items = draw(st.permutations(items))
    indent = draw(st.sampled_from([None, 0, 2, "\t"]))
    seps = draw(st.sampled_from([(",", ":"), (", ", ": "), (" ,\n", " :  ")]))
    body = ", ".join(
        f"{json.dumps(k)}: {json.dumps(v, indent=indent, separators=seps)}" for k, v in items
    )
    text = draw(st.sampled_from([" ", "\n", ""])) + "{" + body + "}"
    junk = draw(st.sampled_from(["", "", "", "\n", "]", ",", "}", "x", "{}"]))
    at = draw(st.integers(0, len(text)))
    return text + junk if draw(st.booleans()) else text[:at] + junk + text[at:]


def _outcome(read, text):
    """The records read (as lists of records) and the settings, or the error."""
    try:
        needs, vols, s = read(text)
    except ValueError as exc:  # json.JSONDecodeError too
        return type(exc), str(exc)
    return list(needs), list(vols), s


@settings(max_examples=400, deadline=None)
@given(text=instance_texts(), chunk=st.sampled_from([1, 40, 200, 10**6]))
def test_the_text_reads_as_the_decoded_document_does(text, chunk):
    """The same records, or the same error, as `parse_instance(json.loads(text))`, whatever
    the chunk size (1: every record a chunk of its own)."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(instance, "CHUNK_CHARS", chunk)
        got = _outcome(instance.loads_instance, text)
    assert got == _outcome(lambda t: parse_instance(json.loads(t)), text)


def test_a_repeated_id_in_another_chunk_is_named(monkeypatch):
    doc = generate_instance(50, 10, "metro", 3)
    doc["needs"][40]["id"] = doc["needs"][2]["id"]
    monkeypatch.setattr(instance, "CHUNK_CHARS", 500)
    with pytest.raises(ValueError, match=r"need #40 \(id 'r\d+'\): duplicate id"):
        instance.loads_instance(json.dumps(doc, indent=1))


def test_a_generated_city_reads_in_chunks_without_decoding_it_whole(monkeypatch):
    doc = generate_instance(400, 300, "country", 4)
    text = json.dumps(doc, separators=(",", ":"))
    monkeypatch.setattr(instance, "CHUNK_CHARS", 2_000)
    monkeypatch.setattr(instance, "parse_instance", None)  # the whole-document path
    needs, vols, s = instance.loads_instance(text)
    assert (list(needs), list(vols)) == by_records(doc) and len(needs) == 400 and s.max_km == 25.0
