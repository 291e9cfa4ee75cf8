"""Reading instances: the batch path and the record-by-record path agree."""

from __future__ import annotations

import json

import pytest

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
