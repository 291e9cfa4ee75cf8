"""Location: each source (coordinates, ZIP, places, online geocoder) and the unresolved case."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest
from geopy.exc import GeocoderUnavailable

from mutualaid.models import Precision
from mutualaid.services.location import (
    Gazetteer,
    GeopyGeocoder,
    Location,
    PlaceEntry,
    Resolver,
    build_geocoder,
    lookup_zip,
    parse_coordinates,
    read_places_file,
)
from mutualaid.settings import CONFIG_DIR

PLACES = [
    PlaceEntry(
        "bed-stuy",
        "Bedford-Stuyvesant",
        "neighbourhood",
        40.6872,
        -73.9418,
        ("Bed-Stuy", "BedStuy"),
    ),
    PlaceEntry("flatbush", "Flatbush", "neighbourhood", 40.6409, -73.9624),
    PlaceEntry("east-flatbush", "East Flatbush", "neighbourhood", 40.6415, -73.9360),
    PlaceEntry(
        "fulton-nostrand",
        "Fulton St & Nostrand Ave",
        "landmark",
        40.6803,
        -73.9505,
        ("Fulton Street",),
    ),
    PlaceEntry("sw1a", "SW1A 1AA", "postcode", 51.501, -0.1416),
]


class FakeGeocoder:
    def __init__(self, answers: dict[str, Location]) -> None:
        self.answers, self.queries = answers, []

    def geocode(self, query: str) -> Location | None:
        self.queries.append(query)
        return self.answers.get(query)


@pytest.fixture
def resolver() -> Resolver:
    return Resolver(Gazetteer(PLACES))


@pytest.mark.parametrize(
    ("text", "lat", "lon"),
    [
        ("40.68,-73.94", 40.68, -73.94),
        (" -33.8688 ; 151.2093 ", -33.8688, 151.2093),
        ("40.68 -73.94", 40.68, -73.94),
    ],
)
def test_coordinates(text: str, lat: float, lon: float) -> None:
    found = parse_coordinates(text)
    assert found is not None and (found.lat, found.lon) == (lat, lon)
    assert found.precision is Precision.EXACT


@pytest.mark.parametrize("text", ["91.0,10", "45,181", "11216", "Fulton St", ""])
def test_not_coordinates(text: str) -> None:
    assert parse_coordinates(text) is None


@pytest.mark.parametrize(
    "text", ["11216", "need groceries 11216", "11216-1234", "Brooklyn NY 11216"]
)
def test_us_zip_code_offline(text: str) -> None:
    found = lookup_zip(text)
    assert found is not None
    assert found.precision is Precision.POSTCODE and found.source == "zip"
    assert found.lat == pytest.approx(40.679, abs=0.01)
    assert found.lon == pytest.approx(-73.950, abs=0.01)
    assert found.label.startswith("11216")


@pytest.mark.parametrize("text", ["00000", "123456", "call 718-555-0101", "apt 4"])
def test_not_a_zip_code(text: str) -> None:
    assert lookup_zip(text) is None


@pytest.mark.parametrize(
    ("text", "key_name"),
    [
        ("Bed-Stuy", "Bedford-Stuyvesant"),
        ("bedstuy", "Bedford-Stuyvesant"),
        ("BEDFORD STUYVESANT!!", "Bedford-Stuyvesant"),
        ("necesito medicina cerca de Fulton St", "Fulton St & Nostrand Ave"),
        ("near fulton street please", "Fulton St & Nostrand Ave"),
        ("East Flatbush", "East Flatbush"),  # the longer name wins
        ("flatbush", "Flatbush"),
        ("sw1a 1aa", "SW1A 1AA"),
    ],
)
def test_places_by_name_or_alias(resolver: Resolver, text: str, key_name: str) -> None:
    found = resolver.resolve(text)
    assert found is not None and found.label == key_name


def test_a_place_is_matched_on_whole_words_only(resolver: Resolver) -> None:
    assert resolver.resolve("Flatbushwick") is None


def test_postcode_places_have_postcode_precision(resolver: Resolver) -> None:
    assert resolver.resolve("SW1A 1AA").precision is Precision.POSTCODE
    assert resolver.resolve("flatbush").precision is Precision.PLACE


def test_unresolved_without_geocoder(resolver: Resolver) -> None:
    assert resolver.resolve("behind the old bakery") is None
    assert resolver.resolve("") is None
    assert resolver.resolve(None) is None


def test_geocoder_is_asked_only_when_offline_sources_fail() -> None:
    there = Location(40.7, -73.9, "12 Main St", Precision.ADDRESS, "geocoder")
    geocoder = FakeGeocoder({"12 Main St": there})
    resolver = Resolver(Gazetteer(PLACES), geocoder)
    assert resolver.resolve("12 Main St") == there
    assert resolver.resolve("11216").source == "zip"
    assert resolver.resolve("nowhere at all") is None
    assert geocoder.queries == ["12 Main St", "nowhere at all"]


def test_a_street_address_is_geocoded_when_online_else_its_zip() -> None:
    there = Location(40.68, -73.95, "12 Macon St", Precision.ADDRESS, "geocoder")
    online = Resolver(Gazetteer(PLACES), FakeGeocoder({"12 Macon St 11216": there}))
    assert online.resolve_address("12 Macon St 11216") == there
    offline = Resolver(Gazetteer(PLACES))
    assert offline.resolve_address("12 Macon St 11216").source == "zip"


def _fake_geopy(answers: dict[str, tuple[float, float, str]], calls: list):
    def geocode(query: str, **kwargs):
        calls.append((query, kwargs))
        if query == "boom":
            raise GeocoderUnavailable("down")
        if query in answers:
            lat, lon, address = answers[query]
            return SimpleNamespace(latitude=lat, longitude=lon, address=address)
        return None

    return geocode


def test_geopy_geocoder_caches_and_rate_limits() -> None:
    calls: list = []
    now = [100.0]
    slept: list[float] = []

    def sleep(seconds: float) -> None:
        slept.append(seconds)
        now[0] += seconds

    geocoder = GeopyGeocoder(
        _fake_geopy({"12 Macon St": (40.68, -73.95, "12, Macon Street, Brooklyn")}, calls),
        min_delay=1.0,
        country_codes=["us"],
        clock=lambda: now[0],
        sleep=sleep,
    )
    first = geocoder.geocode("12 Macon St")
    # Never the house number the address starts with: the point, rounded to ~1 km.
    assert first == Location(40.68, -73.95, "40.68, -73.95", Precision.ADDRESS, "geocoder")
    assert geocoder.geocode("12 Macon St") == first  # cached: no second call
    assert geocoder.geocode("nowhere") is None  # immediately after: must wait a second
    assert [q for q, _ in calls] == ["12 Macon St", "nowhere"]
    assert calls[0][1]["country_codes"] == ["us"]
    assert slept == [pytest.approx(1.0)]


def test_geopy_geocoder_unavailable_means_unresolved_not_an_error() -> None:
    geocoder = GeopyGeocoder(_fake_geopy({}, []), min_delay=0)
    assert geocoder.geocode("boom") is None


def test_online_geocoding_is_off_by_default() -> None:
    assert build_geocoder({"GEOCODER": "none"}) is None
    online = build_geocoder(
        {
            "GEOCODER": "nominatim",
            "GEOCODER_USER_AGENT": "test",
            "GEOCODER_MIN_DELAY_SECONDS": 1.0,
            "GEOCODER_CACHE_SIZE": 10,
            "GEOCODER_COUNTRY_CODES": [],
        }
    )
    assert isinstance(online, GeopyGeocoder)


def test_the_demo_places_file_reads_and_resolves() -> None:
    entries = read_places_file(CONFIG_DIR / "places" / "demo-brooklyn.toml")
    assert len(entries) >= 30
    resolver = Resolver(Gazetteer(entries))
    assert resolver.resolve("cerca de Fulton St").label == "Fulton St & Nostrand Ave"
    assert resolver.resolve("Bed Stuy").label == "Bedford-Stuyvesant"


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('[[place]]\nkey = "x"\nname = "X"\nlat = 1\n', "place #1 \\(x\\)"),
        ('[[place]]\nkey = "x"\nname = "X"\nlat = 100\nlon = 0\n', "out of range"),
        ('[[place]]\nkey = "x"\nname = "X"\nkind = "city"\nlat = 1\nlon = 0\n', "kind"),
    ],
)
def test_a_bad_places_file_names_the_entry(tmp_path: Path, body: str, message: str) -> None:
    path = tmp_path / "places.toml"
    path.write_text(body)
    with pytest.raises(ValueError, match=message):
        read_places_file(path)
