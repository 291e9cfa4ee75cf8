"""Matching engine: provably optimal, explainable pairing of needs with nearby volunteers.

A pure library (numpy, scipy; geopy only in tests; no I/O, no clock). `solve` takes
`Need` and `Volunteer` records and `Settings`, and returns a `Result`:
pairs with their distance and why, unmatched needs with a reason code
(``no_category``, ``out_of_range``, ``excluded_unvetted_or_full``,
``outprioritised``) and a sentence, and `Stats`. `assign` is the same engine
on arrays.

The objective: first serve the greatest total priority weight
(`Settings.weight`: urgency points plus waiting points), exactly, then among those
assignments the least total cost (great-circle km on a sphere of radius 6371.009 km,
plus each volunteer's optional ``penalty`` per assigned need), compared exactly as
whole micrometres. The result is proven optimal over *all* feasible pairs by LP
duality, and says so in ``stats.proven_optimal`` and which way in ``stats.path``.

How (`assign`, on a `Problem`): co-located interchangeable needs and volunteers are
aggregated into groups (`matching._groups`); a candidate graph of nearest groups
(`matching._candidates`) is solved exactly by successive shortest paths on 128-bit
integer costs (`matching/_flow.pyx`, compiled at install; `matching._flow_py` is the
same method in plain Python); its dual prices are checked against every feasible pair
(`matching._certificate`), violators added and the graph solved again; when the rounds
run out, the full feasible graph is solved instead. Values outside `LIMITS` are
refused with a ValueError naming the record and field.

Instance format (``python -m matching solve INSTANCE.json``; JSON Schema in
``matching/instance.schema.json``)::

    {"settings": {"max_km": 25},
     "needs": [{"id": "r1", "lat": 40.68, "lon": -73.94, "category": "groceries",
                "urgency": "normal", "waited_hours": 0, "exclude": ["v3"],
                "needs_vetted": false}],
     "volunteers": [{"id": "v1", "lat": 40.69, "lon": -73.95,
                     "categories": ["groceries", "rides"], "radius_km": 5,
                     "capacity": 1, "vetted": true}]}

Optional fields and defaults: ``settings`` (all fields of `Settings`:
``max_km`` 25, ``urgency_points`` {"normal": 10, "soon": 20, "urgent": 40},
``wait_points_per_day`` 10, ``max_wait_points`` 60), ``urgency`` "normal",
``waited_hours`` 0, ``exclude`` [], ``needs_vetted`` false, ``capacity`` 1,
``vetted`` false, ``penalty`` 0. Unknown fields are errors.

Result format::

    {"matches": [{"need": "r1", "volunteer": "v1", "km": 1.37, "why": "..."}],
     "unmatched": [{"need": "r2", "reason": "out_of_range", "detail": "..."}],
     "stats": {"matched": 1, "total_km": 1.37, "served_weight": 10,
               "proven_optimal": true, "path": "candidate_graph", "seconds": 0.01, ...}}

Examples
--------
>>> from matching import Need, Volunteer, solve
>>> r = solve([Need("r1", 40.68, -73.94, "groceries")],
...           [Volunteer("v1", 40.69, -73.95, ("groceries",), radius_km=5)])
>>> [(p.need, p.volunteer, round(p.km, 3)) for p in r.pairs]
[('r1', 'v1', 1.395)]
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from ._baselines import dense_assign, first_come_first_served, greedy_cheapest_first
    from ._engine import FULL_GRAPH_MAX_PAIRS, Assignment, assign
    from ._generate import CATEGORIES, generate_instance
    from ._geo import EARTH_RADIUS_KM, great_circle_km, unit_vectors
    from ._instance import parse_instance, result_to_dict
    from ._model import URGENCIES, Need, Pair, Result, Settings, Stats, Unmatched, Volunteer
    from ._problem import LIMITS, Problem
    from ._solve import Arrays, solve, to_arrays, to_problem

#: Where each public name lives. They are imported when first asked for, not with the
#: package: ``python -m matching`` runs the package's ``__main__`` before numpy is
#: imported (which it needs to, to start numpy's BLAS on one thread).
_FROM = {
    "._baselines": ("dense_assign", "first_come_first_served", "greedy_cheapest_first"),
    "._engine": ("FULL_GRAPH_MAX_PAIRS", "Assignment", "assign"),
    "._generate": ("CATEGORIES", "generate_instance"),
    "._geo": ("EARTH_RADIUS_KM", "great_circle_km", "unit_vectors"),
    "._instance": ("parse_instance", "result_to_dict"),
    "._model": (
        "URGENCIES",
        "Need",
        "Pair",
        "Result",
        "Settings",
        "Stats",
        "Unmatched",
        "Volunteer",
    ),
    "._problem": ("LIMITS", "Problem"),
    "._solve": ("Arrays", "solve", "to_arrays", "to_problem"),
}
_HOME = {name: module for module, names in _FROM.items() for name in names}


def __getattr__(name: str) -> Any:
    home = _HOME.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(import_module(home, __name__), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_HOME])


__all__ = [
    "CATEGORIES",
    "EARTH_RADIUS_KM",
    "FULL_GRAPH_MAX_PAIRS",
    "LIMITS",
    "URGENCIES",
    "Arrays",
    "Assignment",
    "Need",
    "Pair",
    "Problem",
    "Result",
    "Settings",
    "Stats",
    "Unmatched",
    "Volunteer",
    "assign",
    "dense_assign",
    "first_come_first_served",
    "generate_instance",
    "great_circle_km",
    "greedy_cheapest_first",
    "parse_instance",
    "result_to_dict",
    "solve",
    "to_arrays",
    "to_problem",
    "unit_vectors",
]
