"""Dashboard pages with a city's worth of data: p50 / p95 per page and SQL queries per page.

    DATABASE_URL=postgresql+psycopg://postgres@127.0.0.1/mutualaid_bench python bench/dashboard.py

The database is emptied and migrated, filled with 10,000 open requests and 5,000
volunteers (a few hundred proposals among them), 50,000 texts and 2,000 coordinators'
notes, then each page is loaded through the app's test client by a logged-in coordinator
(the message searches are posted, as the page posts them). Default: an SQLite file in a
temp folder.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import sqlalchemy as sa

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mutualaid import create_app
from mutualaid.extensions import db
from mutualaid.models import Base, Role
from mutualaid.services.accounts import create_account

CATEGORIES = ["groceries", "meals", "pharmacy", "rides", "childcare", "checkin"]
URGENCIES = ["normal", "normal", "soon", "urgent"]


WORDS = ["milk", "bread", "rides", "pharmacy", "tomorrow", "thanks", "please", "call", "when",
         "outside", "buzzer"]  # fmt: skip


def fill(n_requests: int, n_volunteers: int, n_messages: int = 50_000, seed: int = 7) -> None:
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    people = [
        {"id": i, "phone": f"+17182{i:06d}", "name": f"P{i}", "language": "en"}
        for i in range(1, n_requests + n_volunteers + 1)
    ]
    requests = []
    for i in range(1, n_requests + 1):
        created = now - dt.timedelta(minutes=rng.randint(0, 30 * 24 * 60))
        requests.append(
            {
                "id": i,
                "ref": f"B{i:07d}",
                "requester_id": i,
                "category": rng.choice(CATEGORIES),
                "details": "bench",
                "urgency": rng.choice(URGENCIES),
                "status": "open",
                "channel": rng.choice(["sms", "web"]),
                "language": "en",
                "lat": 40.60 + rng.random() * 0.2,
                "lon": -74.05 + rng.random() * 0.2,
                "location_label": f"Area {rng.randint(1, 40)}",
                "location_precision": "postcode",
                "location_text": "11216",
                "flagged": rng.random() < 0.02,
                "created_at": created,
                "updated_at": created,
            }
        )
    offers, cats = [], []
    for j in range(1, n_volunteers + 1):
        offers.append(
            {
                "id": j,
                "person_id": n_requests + j,
                "lat": 40.60 + rng.random() * 0.2,
                "lon": -74.05 + rng.random() * 0.2,
                "location_precision": "postcode",
                "location_text": "11216",
                "radius_km": 5.0,
                "capacity": rng.randint(1, 3),
                "vetted": rng.random() < 0.5,
                "created_at": now,
                "updated_at": now,
            }
        )
        for c in rng.sample(CATEGORIES, rng.randint(1, 3)):
            cats.append({"offer_id": j, "category": c})
    matches = [
        {
            "request_id": i,
            "offer_id": rng.randint(1, n_volunteers),
            "status": "proposed",
            "code": f"{i % 10000:04d}",
            "km": 1.0,
            "why": "bench",
            "proposed_at": now,
            "expires_at": now + dt.timedelta(minutes=rng.randint(1, 60)),
        }
        for i in range(1, n_requests + 1, 25)
    ]
    messages = []
    for k in range(1, n_messages + 1):
        person = rng.randint(1, len(people))
        inbound = k % 2 == 0
        messages.append(
            {
                "id": k,
                "direction": "inbound" if inbound else "outbound",
                "person_id": person,
                "phone": people[person - 1]["phone"],
                "body": " ".join(rng.choices(WORDS, k=8)),
                "status": "processed" if inbound else "sent",
                "request_id": person if person <= n_requests else None,
                "created_at": now - dt.timedelta(minutes=n_messages - k),
            }
        )
    notes = [
        {"request_id": i, "body": f"note {i}: " + " ".join(rng.choices(WORDS, k=12)),
         "created_at": now}
        for i in range(1, n_requests + 1, max(1, n_requests // 2000))
    ]  # fmt: skip
    tables = Base.metadata.tables
    for name, rows in (
        ("people", people),
        ("aid_requests", requests),
        ("offers", offers),
        ("offer_categories", cats),
        ("matches", matches),
        ("messages", messages),
        ("request_notes", notes),
    ):
        for start in range(0, len(rows), 2000):
            db.session.execute(sa.insert(tables[name]), rows[start : start + 2000])
    if db.engine.dialect.name == "postgresql":
        for name in ("people", "aid_requests", "offers", "matches", "messages"):
            db.session.execute(
                sa.text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), max(id)) FROM {name}"
                )
            )
        db.session.execute(sa.text("ANALYZE"))
    db.session.commit()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=10_000)
    parser.add_argument("--volunteers", type=int, default=5_000)
    parser.add_argument("--messages", type=int, default=50_000)
    parser.add_argument("--repeat", type=int, default=20)
    args = parser.parse_args()
    url = os.environ.get("DATABASE_URL") or f"sqlite:///{tempfile.mkdtemp()}/bench.db"
    config = {
        "ENV": "production",
        "SECRET_KEY": "bench-secret-key-0123456789",
        "DATA_KEY": "be" * 64,
        "DATABASE_URL": url,
    }
    config["WTF_CSRF_ENABLED"] = False
    app = create_app(config)
    with app.app_context():
        from flask_migrate import upgrade

        if db.engine.dialect.name == "postgresql":
            with db.engine.begin() as conn:
                conn.execute(sa.text("DROP SCHEMA public CASCADE; CREATE SCHEMA public"))
        upgrade()
        started = time.perf_counter()
        fill(args.requests, args.volunteers, args.messages)
        print(
            f"{db.engine.dialect.name}: {args.requests} open requests, {args.volunteers} "
            f"volunteers, {args.messages} texts loaded in {time.perf_counter() - started:.1f} s"
        )
        create_account(db.session, "bench@example.org", "bench password 123", Role.COORDINATOR)
        db.session.commit()
        client = app.test_client()
        client.post("/login", data={"email": "bench@example.org", "password": "bench password 123"})
        pages = [
            "/dashboard/",
            "/dashboard/requests",
            "/dashboard/requests?state=open&sort=urgency&page=150",
            "/dashboard/requests?category=rides&urgency=urgent&flagged=1",
            "/dashboard/requests/5000",
            "/dashboard/requests/5001?lang=es",
            "/dashboard/volunteers",
            "/dashboard/volunteers?category=meals&vetted=yes&page=20",
            "/dashboard/volunteers/2500",
            "/dashboard/matching",
            "/dashboard/map",
            "/dashboard/figures",
            "/dashboard/audit",
            "/dashboard/messages",
            ("/dashboard/messages/search", {"q": "pharmacy"}),
            ("/dashboard/messages/search", {"q": "nowhere-to-be-found"}),
            ("/dashboard/messages/search", {"phone": "(718) 200-4321"}),
            ("/dashboard/messages/search", {"phone": "(718) 200-4321", "q": "milk"}),
        ]
        queries: list[int] = []
        sa.event.listen(db.engine, "before_cursor_execute", lambda *a: queries.append(1))
        print(f"{'page':62} {'p50 ms':>8} {'p95 ms':>8} {'queries':>8} {'KB':>6}")
        for page in pages:
            times = []
            for _ in range(args.repeat):
                queries.clear()
                t = time.perf_counter()
                if isinstance(page, tuple):
                    response = client.post(page[0], data=page[1])
                else:
                    response = client.get(page)
                times.append((time.perf_counter() - t) * 1000)
                assert response.status_code == 200, (page, response.status_code)
            p95 = statistics.quantiles(times, n=20, method="inclusive")[18]
            size = len(response.data) / 1024
            p50 = statistics.median(times)
            name = page if isinstance(page, str) else f"POST {page[0]} {page[1]}"
            print(f"{name:62} {p50:8.1f} {p95:8.1f} {len(queries):8d} {size:6.0f}")
        db.session.remove()
        db.engine.dispose()


if __name__ == "__main__":
    main()
