"""Needs and volunteers held as columns (`NeedTable`, `VolunteerTable`): the same records,
in and out, as the objects they stand for."""

import pytest

from matching import Need, Settings, Volunteer, generate_instance, parse_instance, solve
from matching._instance import loads_instance, parse_tables
from matching._tables import NeedTable, VolunteerTable

NEEDS = [
    Need("r2", 40.7, -73.9, "groceries", "urgent", 30.5, ("v1",), True),
    Need("r1", 40.71, -73.91, "rides"),
    Need("r3", 0, 0, "rides", "soon", 0, (), False),
]
VOLS = [
    Volunteer("v2", 40.7, -73.9, ("groceries", "rides"), 5.0, 3, True, 0.25),
    Volunteer("v1", 40.705, -73.905, ("rides",), 2.5),
]


def test_a_table_gives_back_the_records_it_was_made_of():
    needs, vols = NeedTable.of(NEEDS), VolunteerTable.of(VOLS)
    assert list(needs) == NEEDS and list(vols) == VOLS
    assert len(needs) == 3 and needs[-1] == NEEDS[-1] and needs[1:] == NEEDS[1:]
    assert NeedTable.of(needs) is needs
    assert type(vols[0].capacity) is int and type(needs[0].needs_vetted) is bool
    assert list(needs.take([2, 0])) == [NEEDS[2], NEEDS[0]]
    assert list(VolunteerTable.concat([vols, vols.take([1])])) == [*VOLS, VOLS[1]]
    assert list(NeedTable.concat([needs.take([1]), needs.take([0, 2])])) == [
        NEEDS[1],
        NEEDS[0],
        NEEDS[2],
    ]
    with pytest.raises(IndexError):
        needs[3]


def test_columns_of_different_lengths_are_refused():
    t = NeedTable.of(NEEDS)
    with pytest.raises(ValueError, match="different lengths"):
        NeedTable(
            t.id[:2], t.lat, t.lon, t.category, t.urgency, t.waited_hours, t.exclude, t.needs_vetted
        )
    v = VolunteerTable.of(VOLS)
    with pytest.raises(ValueError, match="different lengths"):
        VolunteerTable(
            v.id, v.lat, v.lon, v.categories, v.radius_km, v.capacity[:1], v.vetted, v.penalty
        )


def test_equal_category_sets_are_one_object():
    _, vols, _ = parse_tables(generate_instance(50, 400, "metro", 2))
    assert len({id(c) for c in vols.categories}) == len(set(vols.categories)) < len(vols) / 4


@pytest.mark.parametrize("usual", [True, False])
def test_solving_a_table_gives_what_solving_its_records_gives(usual):
    doc = generate_instance(400, 250, "metro", 5)
    doc["needs"][3] |= {"exclude": ["v1", "v7"], "needs_vetted": True}
    if not usual:  # a record the batch path does not vouch for: read one by one
        doc["needs"][0]["lat"] = 40
    needs, vols, settings = parse_tables(doc)
    as_lists = parse_instance(doc)
    assert isinstance(needs, NeedTable) and isinstance(as_lists[0], list)
    assert list(needs) == as_lists[0] and list(vols) == as_lists[1]
    a, b = solve(needs, vols, settings), solve(*as_lists)
    assert a.pairs == b.pairs and a.unmatched == b.unmatched
    assert a.stats.served_weight == b.stats.served_weight and a.stats.proven_optimal


def test_the_weights_of_columns_are_the_weights_of_records():
    s = Settings()
    t = NeedTable.of(NEEDS)
    assert s.weights_of(t.urgency, t.waited_hours).tolist() == s.weights(NEEDS).tolist()
    text = '{"needs": [{"id": "r1", "lat": 1, "lon": 2, "category": "x"}], "volunteers": []}'
    needs, vols, _ = loads_instance(text)
    assert isinstance(needs, NeedTable) and isinstance(vols, VolunteerTable) and not len(vols)
