"""Bringing a network's spreadsheet in: volunteers or requests from a CSV file, each row
matched to the person with its phone number (E.164, PHONE_REGION), planned row by row
(create, update, unchanged, skipped, refused and why), then applied all or nothing.

An imported person has not answered yet: they are marked as waiting for their opt-in
(services.optin), and nothing is proposed to them or for them until they say YES. An
existing person's own offer (one they texted or typed in) changes only through their own
number: a row for them is left unchanged and says so. Importing the same file twice
changes nothing the second time.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mutualaid.models import AidRequest, Channel, Offer, Person, RequestStatus, Urgency
from mutualaid.services import optin
from mutualaid.services.audit import Actor, record
from mutualaid.services.catalogues import Category
from mutualaid.services.errors import Refused
from mutualaid.services.intake import (
    MAX_CAPACITY,
    MAX_RADIUS_KM,
    NewOffer,
    NewRequest,
    clean_name,
    create_request,
    find_or_create_person,
    save_offer,
)
from mutualaid.services.location import Resolver, fold
from mutualaid.services.notify import SmsContext
from mutualaid.services.spreadsheets import (
    ColumnMap,
    Table,
    Vocabulary,
    map_headers,
    read_table,
    vocabulary,
)
from sms.phones import InvalidPhoneNumber, mask, normalize

CREATE, UPDATE, UNCHANGED, SKIPPED, REFUSED = "create", "update", "unchanged", "skipped", "refused"
ACTIONS = (CREATE, UPDATE, UNCHANGED, SKIPPED, REFUSED)
REQUIRED = {
    "volunteers": ("phone", "location", "categories"),
    "requests": ("phone", "category"),
}
DEFAULT_RADIUS_KM = 3.0
KM_PER = {"km": 1.0, "mi": 1.609344, "blocks": 0.1}
MAX_AVAILABILITY = 200
MAX_DETAILS = 1000


@dataclass(frozen=True)
class ImportSettings:
    """What an import needs from the deployment: the phone region, the languages spoken."""

    region: str
    languages: tuple[str, ...]
    categories: Mapping[str, Category]

    @classmethod
    def from_config(
        cls, config: Mapping[str, Any], categories: Mapping[str, Category]
    ) -> ImportSettings:
        return cls(config["PHONE_REGION"], tuple(config["LANGUAGES"]), categories)

    @property
    def default_language(self) -> str:
        return self.languages[0] if self.languages else "en"


class Reason(str):
    """Why a row is refused or left as it is: the English sentence (the CLI's), with a
    ``key`` and ``values`` the dashboard says in its languages (dash.import.reason.<key>)."""

    key: str
    values: dict[str, Any]

    def __new__(cls, key: str, text: str, **values: Any) -> Reason:
        reason = super().__new__(cls, text)
        reason.key, reason.values = key, values
        return reason


@dataclass
class RowPlan:
    """One row: its line in the file (the header is line 1), what importing does with it
    and why; ``summary`` describes it without its phone number."""

    line: int
    action: str
    reasons: list[Reason] = field(default_factory=list)
    summary: str = ""
    values: dict[str, Any] = field(default_factory=dict)

    def describe(self) -> str:
        why = f" ({'; '.join(self.reasons)})" if self.reasons else ""
        return f"line {self.line}: {self.action}{why}" + (
            f" — {self.summary}" if self.summary else ""
        )


@dataclass
class ImportReport:
    """What an import did (or, dry, would do)."""

    kind: str
    filename: str
    rows: list[RowPlan]
    columns: dict[str, str]  # field -> header
    ignored_columns: list[str]
    encoding: str
    delimiter: str
    applied: bool = False
    dry_run: bool = False

    @property
    def counts(self) -> dict[str, int]:
        found = Counter(row.action for row in self.rows)
        return {action: found.get(action, 0) for action in ACTIONS}

    @property
    def refused(self) -> list[RowPlan]:
        return [row for row in self.rows if row.action == REFUSED]

    def summary(self) -> str:
        counts = self.counts
        done = {
            CREATE: "created" if self.applied else "to create",
            UPDATE: "updated" if self.applied else "to update",
        }
        parts = [f"{counts[a]} {done.get(a, a)}" for a in ACTIONS]
        if self.dry_run:
            verdict = "dry run: nothing written"
        elif self.applied:
            verdict = "imported"
        else:
            verdict = "nothing imported: fix the refused rows (or skip them) and import again"
        return f"{self.filename}: {len(self.rows)} rows, " + ", ".join(parts) + f"; {verdict}."

    def describe(self) -> list[str]:
        delimiter = {"\t": "tab"}.get(self.delimiter, self.delimiter)
        lines = [
            f"{self.filename}: {self.encoding}, delimiter {delimiter!r}; columns: "
            + ", ".join(f"{header!r} → {name}" for name, header in self.columns.items())
        ]
        if self.ignored_columns:
            lines.append("ignored columns: " + ", ".join(repr(h) for h in self.ignored_columns))
        lines.extend(row.describe() for row in self.rows)
        return lines


def import_file(
    session: Session,
    data: bytes,
    kind: str,
    *,
    filename: str,
    settings: ImportSettings,
    resolver: Resolver,
    actor: Actor,
    overrides: Mapping[str, str] | None = None,
    dry_run: bool = False,
    skip_refused: bool = False,
    taken_by_phone: bool = False,
    sms: SmsContext | None = None,
) -> ImportReport:
    """Plan the import of one CSV file and, unless ``dry_run``, apply it — all of it, or
    nothing when a row is refused (``skip_refused`` imports the others). Each person
    imported waits for their opt-in and is asked for it by one text (through ``sms``; None
    asks nobody), except the requesters of a file ``taken_by_phone`` by a coordinator.
    Flushes; the caller commits. Raises Refused for a file it cannot read at all."""
    table = read_table(data)
    words = vocabulary()
    columns = map_headers(table.headers, kind, overrides=overrides, words=words)
    missing = [name for name in REQUIRED[kind] if name not in columns.columns]
    if kind == "requests" and not {"location", "address"} & set(columns.columns):
        missing.append("location")
    if missing:
        raise Refused(
            "import_missing_columns",
            f"no column for {', '.join(missing)} (found: {', '.join(table.headers)}); "
            "name one with --map 'Column=field'",
            missing=", ".join(missing),
            found=", ".join(table.headers),
        )
    planner = _Planner(session, settings, resolver, words, kind)
    form_language = words.form_language(table.headers)
    if form_language in settings.languages:
        planner.default_language = form_language
    rows = planner.plan(table, columns)
    report = ImportReport(
        kind=kind,
        filename=filename,
        rows=rows,
        columns={name: table.headers[i] for name, i in columns.columns.items()},
        ignored_columns=columns.ignored,
        encoding=table.encoding,
        delimiter=table.delimiter,
        dry_run=dry_run,
    )
    if dry_run or (report.refused and not skip_refused):
        return report
    for row in rows:
        if row.action in (CREATE, UPDATE):
            planner.apply(row, filename=filename, actor=actor, taken_by_phone=taken_by_phone)
    session.flush()
    if sms is not None:
        for person_id in planner.to_ask:
            optin.ask(session, sms, session.get(Person, person_id))
    report.applied = True
    record(
        session,
        actor,
        "import.done",
        subject_type="imports",
        subject_id=None,
        kind=kind,
        filename=filename[:120],
        taken_by_phone=taken_by_phone,
        **report.counts,
    )
    return report


class _Planner:
    def __init__(
        self,
        session: Session,
        settings: ImportSettings,
        resolver: Resolver,
        words: Vocabulary,
        kind: str,
    ) -> None:
        self.session, self.settings, self.resolver = session, settings, resolver
        self.words, self.kind = words, kind
        self.to_ask: list[int] = []
        self.default_language = settings.default_language
        self._names = _category_names(settings.categories)
        # Who each phone is, while planning (nothing is written then): a spreadsheet lists
        # the same person on many lines, one query each would be most of a preview's time.
        self._planned_people: dict[str, Person | None] = {}

    # -- planning --------------------------------------------------------------------------

    def plan(self, table: Table, columns: ColumnMap) -> list[RowPlan]:
        rows: list[RowPlan] = []
        seen: dict[tuple[str, ...], RowPlan] = {}
        for offset, cells in enumerate(table.rows):
            raw = {name: cells[i] for name, i in columns.columns.items()}
            row = RowPlan(line=offset + 2, action=CREATE)
            if self.kind == "volunteers":
                self._plan_volunteer(row, raw)
            else:
                self._plan_request(row, raw)
            rows.append(row)
            if row.action == REFUSED:
                continue
            key = (row.values["phone"], *sorted(row.values.get("categories", ())))
            if self.kind == "volunteers":
                key = (row.values["phone"],)
            earlier = seen.get(key)
            if earlier is not None and earlier.action != SKIPPED:
                # A form answered twice: the later answer is the one that counts.
                earlier.action = SKIPPED
                earlier.reasons = [
                    Reason("duplicate", f"the same person is on line {row.line}", line=row.line)
                ]
            seen[key] = row
        return rows

    def _phone(self, row: RowPlan, raw: Mapping[str, str]) -> str | None:
        text = raw.get("phone", "")
        if not text:
            row.reasons.append(Reason("no_phone", "no phone number"))
            return None
        try:
            return normalize(text, region=self.settings.region)
        except (InvalidPhoneNumber, ValueError):
            masked = mask(text)
            row.reasons.append(Reason("bad_phone", f"bad phone number ({masked})", phone=masked))
            return None

    def _plan_volunteer(self, row: RowPlan, raw: Mapping[str, str]) -> None:
        phone = self._phone(row, raw)
        categories = self._categories(row, raw.get("categories", ""))
        place = raw.get("location", "")
        located = self._place(row, place)
        radius = self._radius(row, raw.get("radius_km", ""))
        capacity = self._capacity(row, raw.get("capacity", ""))
        name = clean_name(raw.get("name", ""))
        language = self._language(raw.get("language", ""))
        if row.reasons or phone is None:
            row.action = REFUSED
            row.summary = _summary(name, categories, place, radius)
            return
        row.values = {
            "phone": phone,
            "name": name,
            "language": language,
            "categories": tuple(categories),
            "location": place,
            "radius_km": radius,
            "capacity": capacity,
            "availability": raw.get("availability", "")[:MAX_AVAILABILITY],
        }
        row.summary = _summary(name, categories, located or place, radius)
        person = self._known_person(phone)
        offer = (
            None
            if person is None
            else self.session.scalar(select(Offer).where(Offer.person_id == person.id))
        )
        if offer is None or person is None:
            row.action = CREATE
        elif _same_offer(offer, row.values):
            row.action = UNCHANGED
        elif person.imported_from is None or not person.awaiting_opt_in:
            # Theirs now (they signed up, or said YES): it changes only by their own texts.
            row.action = UNCHANGED
            row.reasons.append(
                Reason("own_offer", "their own offer: it changes only by their texts")
            )
        else:
            row.action = UPDATE

    def _plan_request(self, row: RowPlan, raw: Mapping[str, str]) -> None:
        phone = self._phone(row, raw)
        categories = self._categories(row, raw.get("category", ""))
        place = raw.get("location", "")
        address = raw.get("address", "")
        located = self._place(row, place, address=address)
        urgency = self._urgency(row, raw.get("urgency", ""))
        name = clean_name(raw.get("name", ""))
        language = self._language(raw.get("language", ""))
        if row.reasons or phone is None:
            row.action = REFUSED
            row.summary = _summary(name, categories, place, None)
            return
        row.values = {
            "phone": phone,
            "name": name,
            "language": language,
            "categories": tuple(categories),
            "location": place or located or "",
            "address": address,
            "urgency": urgency,
            "details": raw.get("details", "")[:MAX_DETAILS],
        }
        row.summary = _summary(name, categories, located or place, None)
        person = self._known_person(phone)
        if person is None:
            return
        have = set(
            self.session.scalars(
                select(AidRequest.category).where(
                    AidRequest.requester_id == person.id,
                    AidRequest.category.in_(categories),
                    AidRequest.status.in_((RequestStatus.OPEN, RequestStatus.MATCHED)),
                )
            )
        )
        new = [c for c in categories if c not in have]
        if not new:
            row.action = UNCHANGED
            row.reasons.append(Reason("already_asked", "already asked for"))
        else:
            row.values["categories"] = tuple(new)

    def _person(self, phone: str) -> Person | None:
        return self.session.scalar(select(Person).where(Person.phone == phone))

    def _known_person(self, phone: str) -> Person | None:
        if phone not in self._planned_people:
            self._planned_people[phone] = self._person(phone)
        return self._planned_people[phone]

    def _categories(self, row: RowPlan, text: str) -> list[str]:
        found: list[str] = []
        pieces = [p.strip() for p in re.split(r"[,;\n]", text) if p.strip()]
        if not pieces:
            row.reasons.append(Reason("no_category", "no category"))
        for piece in pieces:
            key = _category_of(piece, self._names)
            if key is None:
                row.reasons.append(
                    Reason("unknown_category", f"unknown category {piece!r}", what=piece)
                )
            elif key not in found:
                found.append(key)
        return found

    def _place(self, row: RowPlan, text: str, *, address: str = "") -> str | None:
        """The label of where the row is, or None (with the reason) when it resolves to
        nothing."""
        if not text and not address:
            row.reasons.append(Reason("no_place", "no place"))
            return None
        found = (self.resolver.resolve_address(address) if address else None) or (
            self.resolver.resolve(text) if text else None
        )
        if found is None:
            place = (text or address)[:40]
            row.reasons.append(
                Reason("unresolvable_place", f"unresolvable place {place!r}", what=place)
            )
            return None
        return found.label

    def _radius(self, row: RowPlan, text: str) -> float:
        if not text.strip():
            return DEFAULT_RADIUS_KM
        m = re.search(r"(\d+(?:[.,]\d+)?)\s*([^\W\d]*)", fold(text))
        if m is None:
            row.reasons.append(
                Reason("unreadable_distance", f"unreadable distance {text[:30]!r}", what=text[:30])
            )
            return DEFAULT_RADIUS_KM
        number = float(m.group(1).replace(",", "."))
        unit_word = m.group(2)
        unit = next((u for u, names in self.words.distance.items() if unit_word in names), None)
        if unit is None:
            # "5", or a unit we do not know: the rest of the answer may still say it
            unit = next(
                (
                    u
                    for u, names in self.words.distance.items()
                    if any(n in fold(text).split() for n in names)
                ),
                "km",
            )
        km = round(number * KM_PER[unit], 1)
        if not 0 < km <= MAX_RADIUS_KM:
            row.reasons.append(
                Reason(
                    "distance_range",
                    f"distance {text[:30]!r} is not between 0 and {MAX_RADIUS_KM:g} km",
                    what=text[:30],
                    max=f"{MAX_RADIUS_KM:g}",
                )
            )
        return km

    def _capacity(self, row: RowPlan, text: str) -> int:
        if not text.strip():
            return 1
        m = re.search(r"\d+", text)
        if m is None or not 1 <= int(m.group()) <= MAX_CAPACITY:
            row.reasons.append(
                Reason(
                    "capacity_range",
                    f"tasks at once {text[:20]!r} is not between 1 and {MAX_CAPACITY}",
                    what=text[:20],
                    max=MAX_CAPACITY,
                )
            )
            return 1
        return int(m.group())

    def _urgency(self, row: RowPlan, text: str) -> Urgency:
        folded = fold(text)
        if not folded:
            return Urgency.NORMAL
        for value, names in self.words.urgency.items():
            if folded in names or any(n and n in folded.split() for n in names):
                return Urgency(value)
        return Urgency.NORMAL

    def _language(self, text: str) -> str:
        for word in re.split(r"[,;/\s]+", fold(text)):
            for language, names in self.words.languages.items():
                if word in names and language in self.settings.languages:
                    return language
        return self.default_language

    # -- applying --------------------------------------------------------------------------

    def apply(self, row: RowPlan, *, filename: str, actor: Actor, taken_by_phone: bool) -> None:
        v = row.values
        existing = self._person(v["phone"])
        person = find_or_create_person(
            self.session,
            v["phone"],
            name=v["name"],
            language=v["language"] if existing is None else None,
        )
        if self.kind == "volunteers":
            save_offer(
                self.session,
                NewOffer(
                    phone=v["phone"],
                    categories=v["categories"],
                    location_text=v["location"],
                    radius_km=v["radius_km"],
                    capacity=v["capacity"],
                    availability=v["availability"],
                    name=v["name"],
                    language=person.language,
                ),
                resolver=self.resolver,
                categories=self.settings.categories,
                actor=actor,
            )
        else:
            for category in v["categories"]:
                create_request(
                    self.session,
                    NewRequest(
                        phone=v["phone"],
                        category=category,
                        location_text=v["location"],
                        urgency=v["urgency"],
                        details=v["details"],
                        address=v["address"],
                        name=v["name"],
                        language=person.language,
                        channel=Channel.COORDINATOR,
                    ),
                    resolver=self.resolver,
                    categories=self.settings.categories,
                    actor=actor,
                )
        if person.imported_from is None:
            person.imported_from = filename[:120]
        if taken_by_phone and self.kind == "requests":
            optin.confirm(
                self.session, person, source=f"phone:{actor.type}:{actor.id}", actor=actor
            )
        elif optin.mark_waiting(
            self.session, person, source=f"import:{filename[:60]}", actor=actor
        ):
            self.to_ask.append(person.id)


def _same_offer(offer: Offer, values: Mapping[str, Any]) -> bool:
    return (
        sorted(offer.categories) == sorted(values["categories"])
        and abs(offer.radius_km - values["radius_km"]) < 1e-9
        and offer.capacity == values["capacity"]
        and offer.availability == values["availability"].strip()
        and (offer.location_text or "") == values["location"].strip()
    )


def _category_names(categories: Mapping[str, Category]) -> dict[str, list[str]]:
    return {
        key: sorted({fold(n) for n in (key, *c.labels.values(), *c.aliases) if fold(n)})
        for key, c in categories.items()
    }


def _category_of(piece: str, names: Mapping[str, Sequence[str]]) -> str | None:
    """The category a checkbox answer names: one of its key, labels or aliases exactly,
    else the only category one of whose names appears in it as whole words ("Rides (I
    have a car)" is rides)."""
    folded = fold(piece)
    for key, words in names.items():
        if folded in words:
            return key
    padded = f" {folded} "
    hits = {key for key, words in names.items() if any(f" {w} " in padded for w in words)}
    return hits.pop() if len(hits) == 1 else None


def _summary(
    name: str, categories: Collection[str], place: str | None, radius: float | None
) -> str:
    parts = [name or "(no name)", ", ".join(categories) or "?", place or "?"]
    if radius is not None:
        parts.append(f"{radius:g} km")
    return " · ".join(parts)
