"""Plain records of the matching problem: needs, volunteers, settings and the result."""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from types import MappingProxyType

import numpy as np
from numpy.typing import NDArray

__all__ = [
    "URGENCIES",
    "Need",
    "Pair",
    "Result",
    "Settings",
    "Stats",
    "Unmatched",
    "Volunteer",
]

#: Urgency levels a need may carry, least urgent first.
URGENCIES: tuple[str, ...] = ("normal", "soon", "urgent")

_DEFAULT_URGENCY_POINTS: Mapping[str, int] = MappingProxyType(
    {"normal": 10, "soon": 20, "urgent": 40}
)


@dataclass(frozen=True, slots=True)
class Need:
    """An open request for help.

    Parameters
    ----------
    id : str
        Unique identifier; ties between equally good answers are broken by it.
    lat, lon : float
        Location in degrees (WGS84); a ZIP centroid is precise enough.
    category : str
        What is needed, e.g. ``"groceries"``.
    urgency : {"normal", "soon", "urgent"}
        Raises the need's priority weight (see `Settings`).
    waited_hours : float
        Hours the need has already waited; raises its priority so nobody starves.
    exclude : tuple of str
        Volunteer ids never to propose again (they declined or let it expire).
    needs_vetted : bool
        Only vetted volunteers may serve it.

    Examples
    --------
    >>> Need("r1", 40.68, -73.94, "groceries", urgency="urgent").urgency
    'urgent'
    """

    id: str
    lat: float
    lon: float
    category: str
    urgency: str = "normal"
    waited_hours: float = 0.0
    exclude: tuple[str, ...] = ()
    needs_vetted: bool = False


@dataclass(frozen=True, slots=True)
class Volunteer:
    """A volunteer's offer for this run.

    Parameters
    ----------
    id : str
        Unique identifier.
    lat, lon : float
        Location in degrees.
    categories : tuple of str
        Categories the volunteer offers.
    radius_km : float
        How far the volunteer will travel (great-circle km).
    capacity : int
        How many needs the volunteer may take in this run (free capacity).
        Zero means "full": the volunteer is known but takes nothing now.
    vetted : bool
        Whether a coordinator has vetted the volunteer.
    penalty : float
        Extra cost per assigned need, in km-equivalents, e.g. for recent load
        or poor reliability. Must be >= 0; defaults to 0.

    Examples
    --------
    >>> Volunteer("v1", 40.69, -73.95, ("groceries",), radius_km=5).capacity
    1
    """

    id: str
    lat: float
    lon: float
    categories: tuple[str, ...]
    radius_km: float
    capacity: int = 1
    vetted: bool = False
    penalty: float = 0.0


@dataclass(frozen=True, slots=True)
class Settings:
    """Settings of a matching run.

    The engine first maximises the total *priority weight* of the needs it
    serves, then minimises the total cost (km plus volunteer penalties).
    A need's weight is a whole number of points::

        weight = urgency_points[urgency]
                 + min(max_wait_points, floor(wait_points_per_day * waited_hours / 24))

    With the defaults a fresh ``normal`` need weighs 10, ``soon`` 20 and
    ``urgent`` 40; waiting adds 10 points a day, up to 60, so a normal need
    that has waited three days outranks a fresh urgent one and nobody starves.
    Whole points make the "weight first, km second" order exact.

    Parameters
    ----------
    max_km : float
        The network's maximum distance for any pair (default 25 km).
    urgency_points : mapping of str to int
        Points per urgency; must be positive and increasing in urgency.
    wait_points_per_day : float
        Points added per day waited (default 10).
    max_wait_points : int
        Cap on the waiting points (default 60).
    k_nearest : int
        Candidate volunteers looked at first per need (per category); a tuning
        knob only: the result is proven optimal over *all* feasible pairs.
    k_nearest_needs : int
        Candidate needs looked at first per volunteer; tuning knob only.
    max_rounds : int
        Certificate rounds (enlarge the candidate graph, solve again) before the
        engine solves the full feasible graph exactly instead.

    All values are bounded (`matching.LIMITS`): ``max_km`` in (0, 20100],
    urgency points whole numbers in [1, 100000], ``wait_points_per_day`` in
    [0, 100000], ``max_wait_points`` in [0, 100000], ``k_nearest`` and
    ``k_nearest_needs`` at most 256, ``max_rounds`` in [1, 1000].

    Examples
    --------
    >>> s = Settings(max_km=10)
    >>> s.weight("urgent", waited_hours=48)
    60
    >>> s.weight("normal", waited_hours=1000)
    70
    """

    max_km: float = 25.0
    urgency_points: Mapping[str, int] = field(default_factory=lambda: _DEFAULT_URGENCY_POINTS)
    wait_points_per_day: float = 10.0
    max_wait_points: int = 60
    k_nearest: int = 10
    k_nearest_needs: int = 4
    max_rounds: int = 16

    def __post_init__(self) -> None:
        # Imported here: _problem imports nothing of this module, but keep the records light.
        from ._problem import LIMITS

        def number(name: str, value: object, integer: bool = False) -> float:
            low, high = LIMITS[name]
            kind = int if integer else (int, float)
            if isinstance(value, bool) or not isinstance(value, kind):
                raise ValueError(
                    f"{name} must be a {'whole ' if integer else ''}number, got {value!r}"
                )
            if isinstance(value, float) and not math.isfinite(value):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if not low <= value <= high:
                raise ValueError(f"{name} {value!r} is out of range [{low:g}, {high:g}]")
            return float(value)

        if number("max_km", self.max_km) <= 0:
            raise ValueError(f"max_km must be a positive number, got {self.max_km!r}")
        points = dict(self.urgency_points)
        if set(points) != set(URGENCIES):
            raise ValueError(f"urgency_points must give exactly {URGENCIES}, got {sorted(points)}")
        levels = [points[u] for u in URGENCIES]
        for u in URGENCIES:
            if isinstance(points[u], float) and points[u] == int(points[u]):
                points[u] = int(points[u])
            number("urgency_points", points[u], integer=True)
        levels = [points[u] for u in URGENCIES]
        if levels != sorted(set(levels)):
            raise ValueError(f"urgency_points must be positive increasing integers, got {points}")
        number("wait_points_per_day", self.wait_points_per_day)
        number("max_wait_points", self.max_wait_points, integer=True)
        for name, value, low in (
            ("k_nearest", self.k_nearest, 1),
            ("k_nearest_needs", self.k_nearest_needs, 0),
            ("max_rounds", self.max_rounds, 1),
        ):
            high = 1000 if name == "max_rounds" else 256
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
                raise ValueError(f"{name} must be a whole number in [{low}, {high}], got {value!r}")
        object.__setattr__(self, "urgency_points", MappingProxyType(points))
        object.__setattr__(self, "max_km", float(self.max_km))

    def __hash__(self) -> int:
        return hash((self.max_km, tuple(sorted(self.urgency_points.items())), self.max_rounds))

    def weight(self, urgency: str, waited_hours: float = 0.0) -> int:
        """Priority weight (points) of one need; see the class docstring."""
        hours = min(max(float(waited_hours), 0.0), 1e12)  # finite even for absurd input
        wait = math.floor(min(self.wait_points_per_day * hours / 24.0, 1e15))
        return int(self.urgency_points[urgency]) + min(self.max_wait_points, wait)

    def weights(self, needs: Sequence[Need]) -> NDArray[np.int64]:
        """`weight` of every need, in numpy: the same floating-point steps (a call each
        took a second of every million needs' solve).

        >>> Settings().weights([Need("r1", 0, 0, "x", "urgent", 36.0)]).tolist()
        [55]
        """
        return self.weights_of([n.urgency for n in needs], [n.waited_hours for n in needs])

    def weights_of(
        self, urgency: Sequence[str], waited_hours: Sequence[float] | NDArray[np.float64]
    ) -> NDArray[np.int64]:
        """`weights` of needs given as columns: their urgencies and hours waited."""
        points = np.array([self.urgency_points[u] for u in urgency], dtype=np.int64)
        waited = np.asarray(waited_hours, dtype=np.float64).reshape(-1)
        hours = np.minimum(np.maximum(waited, 0.0), 1e12)
        wait = np.floor(np.minimum(self.wait_points_per_day * hours / 24.0, 1e15))
        return points + np.minimum(self.max_wait_points, wait).astype(np.int64)


@dataclass(frozen=True, slots=True)
class Pair:
    """A proposed pairing.

    Attributes
    ----------
    need, volunteer : str
        The ids.
    km : float
        Great-circle distance on geopy's 6371.009 km sphere, in numpy (agrees
        with ``geopy.distance.great_circle`` to well under a metre; tested).
    why : str
        Why this volunteer, in one sentence for a coordinator.
    """

    need: str
    volunteer: str
    km: float
    why: str


@dataclass(frozen=True, slots=True)
class Unmatched:
    """A need left unmatched, and why.

    Attributes
    ----------
    need : str
        The need's id.
    reason : str
        One of ``"no_category"`` (no volunteer offers it at all),
        ``"out_of_range"`` (none within range), ``"excluded_unvetted_or_full"``
        (all in range are excluded, unvetted or at capacity) and
        ``"outprioritised"`` (in range and free, but used by needs of equal or
        higher priority).
    detail : str
        A sentence a coordinator can act on.
    """

    need: str
    reason: str
    detail: str


@dataclass(frozen=True, slots=True)
class Stats:
    """Figures of one run.

    Attributes
    ----------
    needs, volunteers : int
        Sizes of the input.
    matched : int
        Needs served.
    total_km : float
        Sum of the pairs' distances.
    total_cost : float
        Sum of the pairs' costs (km plus penalties), the minimised quantity.
    served_weight : int
        Sum of the served needs' priority weights, the maximised quantity.
    proven_optimal : bool
        True when the dual certificate holds on the full feasible graph.
    rounds : int
        Solve rounds (1 when the first candidate graph was enough).
    candidate_pairs : int
        Feasible pairs in the final candidate graph.
    checked_pairs : int
        Pairs examined by the last optimality check.
    seconds, candidate_seconds, solve_seconds, certify_seconds, explain_seconds : float
        Wall-clock time in total and by phase.
    path : str
        What produced the result: ``"candidate_graph"`` (certified candidate graph),
        ``"full_graph"`` (exact solve of every feasible pair after the certificate
        rounds ran out) or ``"unproven"`` (the full graph would not fit in memory).
    cost_resolution_km : float
        Total cost is optimal to within this per pair (1e-9 km: costs are compared as
        whole micrometres); served weight is optimal exactly.
    """

    needs: int
    volunteers: int
    matched: int
    total_km: float
    total_cost: float
    served_weight: int
    proven_optimal: bool
    rounds: int
    candidate_pairs: int
    checked_pairs: int
    seconds: float
    candidate_seconds: float
    solve_seconds: float
    certify_seconds: float
    explain_seconds: float
    path: str = "candidate_graph"
    cost_resolution_km: float = 1e-9


@dataclass(frozen=True, slots=True)
class Result:
    """Outcome of `solve`: pairs sorted by need id, unmatched needs, statistics."""

    pairs: tuple[Pair, ...]
    unmatched: tuple[Unmatched, ...]
    stats: Stats
