"""From what a person typed to a point: coordinates, US ZIP codes, the network's places, and
(when enabled) an online geocoder. Offline sources first; nothing here needs the internet
unless GEOCODER is set. Street addresses in free text ("I live at 350 Fulton St") are
recognised with `usaddress`, kept as the private address and placed by geocoder, ZIP or
place."""

from __future__ import annotations

import functools
import re
import threading
import time
import tomllib
import unicodedata
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import Place, Precision


@dataclass(frozen=True)
class Location:
    lat: float
    lon: float
    label: str
    precision: Precision
    source: str  # "coordinates", "zip", "place", "geocoder"


class Geocoder(Protocol):
    """An online geocoder: a query in, the best point out (or None)."""

    def geocode(self, query: str) -> Location | None: ...


_COORDS = re.compile(r"^\s*(-?\d{1,2}(?:\.\d+)?)\s*[,;\s]\s*(-?\d{1,3}(?:\.\d+)?)\s*$")
_ZIP = re.compile(r"(?<![\d-])(\d{5})(?:-\d{4})?(?![\d-])")


def approximate(lat: float, lon: float) -> str:
    """A point as it may be shown: 2 decimals, about a kilometre (never the typed point).

    >>> approximate(34.0736, -118.4004)
    '34.07, -118.40'
    """
    return f"{lat:.2f}, {lon:.2f}"


_ZIP_ALONE = re.compile(r"\d{5}(?:-\d{4})?")


def shown_label(found: Location) -> str:
    """The place name stored to be shown for ``found``: a gazetteer name or a ZIP as is;
    for a point (typed coordinates, a geocoded street address) its ZIP if the label is
    one, otherwise the point rounded to ~1 km. The exact point is kept only for
    distances."""
    if found.precision in (Precision.PLACE, Precision.POSTCODE):
        return found.label
    if _ZIP_ALONE.fullmatch(found.label.strip()):
        return found.label.strip()
    return approximate(found.lat, found.lon)


def parse_coordinates(text: str) -> Location | None:
    """``"40.68, -73.94"`` → a Location; anything else (or out of range) → None."""
    m = _COORDS.match(text)
    if not m:
        return None
    lat, lon = float(m.group(1)), float(m.group(2))
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return Location(lat, lon, approximate(lat, lon), Precision.EXACT, "coordinates")


def lookup_zip(text: str) -> Location | None:
    """The centroid of the first real US ZIP code in ``text`` (offline, from `zipcodes`)."""
    for candidate in _ZIP.findall(text):
        if (found := _zip_centroid(candidate)) is not None:
            lat, lon, label = found
            return Location(lat, lon, label, Precision.POSTCODE, "zip")
    return None


@functools.lru_cache(maxsize=8192)
def _zip_centroid(code: str) -> tuple[float, float, str] | None:
    """(lat, lon, "11216 Brooklyn") of a five-digit ZIP code, or None. Remembered:
    `zipcodes.matching` scans all 42,000 codes (about 2 ms), and a spreadsheet or an SMS
    campaign names the same few codes thousands of times."""
    import zipcodes  # loads its bundled data on first use

    found = zipcodes.matching(code)
    if not found or not found[0].get("lat"):
        return None
    z = found[0]
    return float(z["lat"]), float(z["long"]), f"{z['zip_code']} {z['city'].title()}"


@functools.cache
def _zip_table() -> tuple[list[str], list[float], list[float]]:
    import zipcodes

    rows = [z for z in zipcodes.list_all() if z.get("lat") and z.get("active", True)]
    return (
        [z["zip_code"] for z in rows],
        [float(z["lat"]) for z in rows],
        [float(z["long"]) for z in rows],
    )


def nearest_zip(lat: float, lon: float, *, within_km: float = 10.0) -> str | None:
    """The real US ZIP code whose centroid is nearest (lat, lon), if within ``within_km``."""
    import numpy as np

    codes, lats, lons = _zip_table()
    la, lo = np.radians(np.asarray(lats)), np.radians(np.asarray(lons))
    p1, l1 = np.radians(lat), np.radians(lon)
    a = np.sin((la - p1) / 2) ** 2 + np.cos(p1) * np.cos(la) * np.sin((lo - l1) / 2) ** 2
    km = 2 * 6371.0 * np.arcsin(np.sqrt(a))
    best = int(np.argmin(km))
    return codes[best] if km[best] <= within_km else None


# Parts of a US address as usaddress labels them: the street part (a number, then a name
# and a type), then what may follow it (unit, place, state, ZIP).
_STREET_PARTS = {
    "AddressNumber",
    "AddressNumberSuffix",
    "StreetNamePreDirectional",
    "StreetNamePreModifier",
    "StreetNamePreType",
    "StreetName",
    "StreetNamePostType",
    "StreetNamePostDirectional",
    "StreetNamePostModifier",
}
_UNIT_PARTS = {"OccupancyType", "OccupancyIdentifier", "SubaddressType", "SubaddressIdentifier"}
_TAIL_PARTS = {"PlaceName", "StateName", "ZipCode"}
_STATES = frozenset(
    "AL AK AZ AR CA CO CT DE DC FL GA HI ID IL IN IA KS KY LA ME MD MA MI MN MS MO MT NE NV NH NJ "  # noqa: SIM905
    "NM NY NC ND OH OK OR PA PR RI SC SD TN TX UT VT VA WA WV WI WY".split()
)
_HOUSE_NUMBER = re.compile(r"^\d{1,6}[A-Za-z]?$")
_EDGE_PUNCTUATION = ",.;:!?()\"'"


def find_street_address(text: str | None) -> str | None:
    """The first US street address in free text, as typed, or None.

    An address is a house number, a street name and a street type ("350 Fulton St",
    "12 Halsey Street apt 3", "1073 Bedford Ave, Brooklyn NY 11216"): usaddress labels
    the words, and only a number followed by a named street with its type counts — so
    "2 bags of rice" or "call me at 5pm" are none.

    >>> find_street_address("I live at 350 Fulton St, thank you")
    '350 Fulton St'
    >>> find_street_address("need 2 bags of rice") is None
    True
    """
    import usaddress

    words = (text or "").split()
    for start, word in enumerate(words):
        if _HOUSE_NUMBER.match(word.strip(_EDGE_PUNCTUATION)):
            found = _address_from(usaddress, words[start:])
            if found:
                return found
    return None


def _address_from(usaddress: Any, words: list[str]) -> str | None:
    """The address the words start with, if they start with one."""
    try:
        labelled = usaddress.parse(" ".join(words[:16]))
    except Exception:  # usaddress raises on odd input (its tokenizer): then there is none
        return None
    if not labelled or labelled[0][1] != "AddressNumber":
        return None
    end, has_name, has_type = 1, False, False
    while end < len(labelled) and labelled[end][1] in _STREET_PARTS:
        token, label = labelled[end]
        bare = token.strip(_EDGE_PUNCTUATION)
        if label == "AddressNumber" or (label == "StreetName" and bare.isdigit()):
            return None  # "4B at 12 Halsey": another number starts the real address
        has_name |= label == "StreetName"
        has_type |= label in {"StreetNamePostType", "StreetNamePreType"}
        end += 1
        if token.endswith(","):
            break
    if not (has_name and has_type):
        return None
    while end < len(labelled) and labelled[end][1] in _UNIT_PARTS:
        end += 1
    tail = end
    while tail < len(labelled) and labelled[tail][1] in _TAIL_PARTS:
        tail += 1
        if _closes_address(*labelled[tail - 1]):
            end = tail  # a place name counts only when a state or ZIP closes it
    return " ".join(token for token, _ in labelled[:end]).strip(_EDGE_PUNCTUATION + " ")


def _closes_address(token: str, label: str) -> bool:
    bare = token.strip(_EDGE_PUNCTUATION)
    if label == "ZipCode":
        return bool(_ZIP.fullmatch(bare))
    return label == "StateName" and bare.upper() in _STATES


def fold(text: str) -> str:
    """Lower-case, accents removed, punctuation to spaces, whitespace collapsed."""
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c))
    words = re.sub(r"[^\w]+", " ", stripped.casefold())
    return " ".join(words.split())


_STREET_WORDS = {
    "street": "st",
    "avenue": "ave",
    "av": "ave",
    "road": "rd",
    "boulevard": "blvd",
    "place": "pl",
    "parkway": "pkwy",
    "calle": "st",
    "avenida": "ave",
}


def _canonical(text: str) -> str:
    return " ".join(_STREET_WORDS.get(w, w) for w in fold(text).split())


@dataclass(frozen=True)
class PlaceEntry:
    key: str
    name: str
    kind: str
    lat: float
    lon: float
    aliases: tuple[str, ...] = ()


class Gazetteer:
    """The network's own places, found by name or alias as whole words inside free text."""

    def __init__(self, places: Iterable[PlaceEntry]) -> None:
        self._names: list[tuple[str, PlaceEntry]] = []
        for place in places:
            for name in {place.name, place.key.replace("-", " "), *place.aliases}:
                canonical = _canonical(name)
                if canonical:
                    self._names.append((canonical, place))
        # Longest name first: "east flatbush" wins over "flatbush".
        self._names.sort(key=lambda item: (-len(item[0]), item[0]))

    def __len__(self) -> int:
        return len({p.key for _, p in self._names})

    def examples(self) -> dict[str, str]:
        """Places a person could type that this gazetteer resolves: a neighbourhood, a
        landmark (cross streets) and a real ZIP code near the network (for "where are
        you?" texts); each falls back to another when the gazetteer has no such kind."""
        places = sorted({p.key: p for _, p in self._names}.values(), key=lambda p: p.key)
        by_kind = {
            kind: [p for p in places if p.kind == kind] for kind in ("neighbourhood", "landmark")
        }
        hood = min(
            by_kind["neighbourhood"] or places or [None], key=lambda p: len(p.name) if p else 0
        )
        crossings = [p for p in by_kind["landmark"] if "&" in p.name] or by_kind["landmark"]
        cross = (crossings or [hood])[0]
        found = {"place": hood.name if hood else "", "cross": cross.name if cross else ""}
        zip_code = nearest_zip(hood.lat, hood.lon) if hood else None
        found["zip"] = zip_code or found["place"]
        return found

    def find(self, text: str) -> Location | None:
        haystack = f" {_canonical(text)} "
        for name, place in self._names:
            if f" {name} " in haystack:
                precision = Precision.POSTCODE if place.kind == "postcode" else Precision.PLACE
                return Location(place.lat, place.lon, place.name, precision, "place")
        return None

    @classmethod
    def from_session(cls, session: Session) -> Gazetteer:
        rows = session.scalars(select(Place)).all()
        return cls(
            PlaceEntry(p.key, p.name, p.kind, p.lat, p.lon, tuple(p.aliases or ())) for p in rows
        )


def read_places_file(path: Path) -> list[PlaceEntry]:
    """Read a places file (TOML: one [[place]] table each); errors name the entry."""
    with open(path, "rb") as f:
        data = tomllib.load(f)
    entries = []
    for i, raw in enumerate(data.get("place", []), start=1):
        where = f"{path.name}: place #{i} ({raw.get('key', '?')})"
        try:
            entry = PlaceEntry(
                key=str(raw["key"]),
                name=str(raw["name"]),
                kind=str(raw.get("kind", "neighbourhood")),
                lat=float(raw["lat"]),
                lon=float(raw["lon"]),
                aliases=tuple(str(a) for a in raw.get("aliases", [])),
            )
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: missing or invalid {exc}") from None
        if not (-90 <= entry.lat <= 90 and -180 <= entry.lon <= 180):
            raise ValueError(f"{where}: coordinates out of range")
        if entry.kind not in {"neighbourhood", "landmark", "postcode"}:
            raise ValueError(f"{where}: kind must be neighbourhood, landmark or postcode")
        entries.append(entry)
    return entries


def load_places(session: Session, entries: Iterable[PlaceEntry]) -> tuple[int, int]:
    """Insert or update places by key; returns (added, updated). Flushes, never commits."""
    existing = {p.key: p for p in session.scalars(select(Place))}
    added = updated = 0
    for e in entries:
        fields: dict[str, Any] = {
            "name": e.name,
            "kind": e.kind,
            "lat": e.lat,
            "lon": e.lon,
            "aliases": list(e.aliases),
        }
        place = existing.get(e.key)
        if place is None:
            session.add(Place(key=e.key, **fields))
            added += 1
        elif any(getattr(place, k) != v for k, v in fields.items()):
            for k, v in fields.items():
                setattr(place, k, v)
            updated += 1
    session.flush()
    return added, updated


class Resolver:
    """Resolve typed locations: coordinates, then ZIP, then places, then the geocoder."""

    def __init__(self, gazetteer: Gazetteer, geocoder: Geocoder | None = None) -> None:
        self.gazetteer = gazetteer
        self.geocoder = geocoder

    def resolve(self, text: str | None) -> Location | None:
        text = (text or "").strip()
        if not text:
            return None
        return (
            parse_coordinates(text)
            or lookup_zip(text)
            or self.gazetteer.find(text)
            or (self.geocoder.geocode(text) if self.geocoder else None)
        )

    def resolve_address(self, address: str | None) -> Location | None:
        """A street address is worth geocoding only online; offline, its ZIP or place."""
        address = (address or "").strip()
        if not address:
            return None
        if self.geocoder:
            found = self.geocoder.geocode(address)
            if found:
                return found
        return lookup_zip(address) or self.gazetteer.find(address)

    def resolve_text(self, text: str | None) -> tuple[Location | None, str | None]:
        """A place for what a person wrote, and the street address in it if any (placed by
        geocoder, ZIP or place, else the text as a whole is resolved)."""
        address = find_street_address(text)
        found = self.resolve_address(address) if address else None
        return found or self.resolve(text), address


class GeopyGeocoder:
    """An online geocoder through geopy (Nominatim by default), rate-limited and cached.

    One call per ``min_delay`` seconds per process (Nominatim's policy allows one per
    second in all); answers, including "not found", are kept in an LRU cache.
    """

    def __init__(
        self,
        geocode: Callable[..., Any],
        *,
        min_delay: float = 1.0,
        cache_size: int = 2048,
        country_codes: list[str] | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._geocode = geocode
        self._min_delay = min_delay
        self._country_codes = country_codes or None
        self._clock, self._sleep = clock, sleep
        self._lock = threading.Lock()
        self._last_call = float("-inf")
        self.geocode = functools.lru_cache(maxsize=cache_size)(self._lookup)  # type: ignore[method-assign]

    def _lookup(self, query: str) -> Location | None:
        from geopy.exc import GeopyError

        with self._lock:
            wait = self._last_call + self._min_delay - self._clock()
            if wait > 0:
                self._sleep(wait)
            self._last_call = self._clock()
        kwargs: dict[str, Any] = {"exactly_one": True, "timeout": 5}
        if self._country_codes:
            kwargs["country_codes"] = self._country_codes
        try:
            found = self._geocode(query, **kwargs)
        except GeopyError:
            # Unreachable or refused: treat as unresolved; a coordinator can fix it.
            return None
        if found is None:
            return None
        # Never the first part of the address (a house number, a building): its ZIP, or
        # the point rounded to ~1 km.
        parts = [part.strip() for part in str(found.address).split(",")]
        zips = [part for part in parts if _ZIP_ALONE.fullmatch(part)]
        label = zips[-1] if zips else approximate(found.latitude, found.longitude)
        return Location(found.latitude, found.longitude, label, Precision.ADDRESS, "geocoder")


def build_geocoder(settings: Mapping[str, Any]) -> Geocoder | None:
    """The online geocoder the settings ask for, or None (the default: offline only)."""
    if settings["GEOCODER"] == "none":
        return None
    from geopy.geocoders import Nominatim

    nominatim = Nominatim(user_agent=settings["GEOCODER_USER_AGENT"])
    return GeopyGeocoder(
        nominatim.geocode,
        min_delay=settings["GEOCODER_MIN_DELAY_SECONDS"],
        cache_size=settings["GEOCODER_CACHE_SIZE"],
        country_codes=settings["GEOCODER_COUNTRY_CODES"],
    )
