"""Load benchmark: the real service (gunicorn, 2 workers, and the worker) on SQLite or
PostgreSQL, driven with signed inbound webhooks at a fixed rate from another process,
10 % of them duplicate deliveries, while the worker sends through the fake Twilio API
and matching runs every minute.

The database starts with 3,000 volunteers and 3,000 open requests, so every matching run
during the load is at least 3,000 x 3,000.

Latency is measured from each request's *scheduled* send time (open loop), so a slow
server cannot hide behind a slow client. Prints, per database: rate held, p50/p95/p99
latency, errors, inbound stored vs unique sent, outbound sent vs queued, duplicates; the
webhook's p99 while a matching run was going on against its p99 otherwise; and how far
the worker's handling of the texts fell behind (the webhook only stores them).
``--summary PATH`` writes the figures with their goals as JSON rows (bench/report.py).

    python bench/load.py                      # both databases, the issue's goals
    python bench/load.py --db sqlite --seconds 60 --burst-seconds 20   # quicker
"""

from __future__ import annotations

import argparse
import datetime as dt
import http.client
import json
import multiprocessing as mp
import os
import queue
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
# Run as a script (`python bench/load.py`, as `make bench` does), the project is not on the
# path: the fake Twilio is imported from tests/fakes.
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))
BIN = Path(sys.executable).parent
TOKEN = "bench-auth-token-0123456789abcdef"
ACCOUNT = "AC" + "0" * 32
PG_BASE = os.environ.get(
    "MUTUALAID_BENCH_PG", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Phase:
    name: str
    rate: float
    seconds: float


def percentile(values: list[float], q: float) -> float:
    """The ``q`` quantile of ``values`` (seconds) in ms; nan when there are none."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


@dataclass
class PhaseResult:
    name: str
    sent: int
    unique: int
    held_rate: float
    # (scheduled send time as a Unix timestamp, seconds from then until the answer)
    samples: list[tuple[float, float]]
    errors: int

    @property
    def latencies(self) -> list[float]:
        return [latency for _, latency in self.samples]

    def pct(self, q: float) -> float:
        return percentile(self.latencies, q)


# -- the load generator (its own process) -----------------------------------------------


def _signature(url: str, params: dict[str, str]) -> str:
    from twilio.request_validator import RequestValidator

    return RequestValidator(TOKEN).compute_signature(url, params)


def generate(port: int, phase: Phase, seed: int, out: mp.Queue) -> None:
    """Send ``phase.rate`` webhooks a second for ``phase.seconds``; 10 % are a second
    delivery of an earlier MessageSid. Reports (latencies, errors, sent, unique)."""
    rng = random.Random(seed)
    url = f"http://127.0.0.1:{port}/sms/inbound"
    total = int(phase.rate * phase.seconds)
    bodies = [
        "need groceries 11216",
        "HELP",
        "STATUS",
        "necesito comida 11221",
        "offer rides groceries 11216 3km",
        "need a ride to the clinic 11233",
        "yes",
        "no",
    ]
    plan: list[tuple[float, dict[str, str]]] = []
    sent_sids: list[dict[str, str]] = []
    for i in range(total):
        if sent_sids and rng.random() < 0.10:
            params = rng.choice(sent_sids)  # Twilio retrying a delivery
        else:
            phone = f"+1718{rng.randint(2000000, 9999999)}"
            params = {
                "MessageSid": f"SM{seed:04d}{i:028d}",
                "AccountSid": ACCOUNT,
                "From": phone,
                "To": "+15005550006",
                "Body": rng.choice(bodies),
                "NumMedia": "0",
            }
            sent_sids.append(params)
        plan.append((i / phase.rate, params))
    unique = len({p["MessageSid"] for _, p in plan})
    signed = [(at, urllib.parse.urlencode(p), _signature(url, p)) for at, p in plan]

    jobs: queue.Queue = queue.Queue()
    samples: list[tuple[float, float]] = []
    errors = [0]
    lock = threading.Lock()
    start = time.monotonic() + 0.5
    start_wall = time.time() + 0.5

    def worker() -> None:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        while True:
            item = jobs.get()
            if item is None:
                return
            at, body, sig = item
            delay = start + at - time.monotonic()
            if delay > 0:
                time.sleep(delay)
            try:
                conn.request(
                    "POST",
                    "/sms/inbound",
                    body=body,
                    headers={
                        "Content-Type": "application/x-www-form-urlencoded",
                        "X-Twilio-Signature": sig,
                    },
                )
                response = conn.getresponse()
                response.read()
                ok = response.status == 200
            except OSError:
                ok = False
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            done = time.monotonic()
            with lock:
                samples.append((start_wall + at, done - (start + at)))
                errors[0] += not ok

    threads = [threading.Thread(target=worker, daemon=True) for _ in range(64)]
    for t in threads:
        t.start()
    for item in signed:
        jobs.put(item)
    for _ in threads:
        jobs.put(None)
    for t in threads:
        t.join()
    elapsed = time.monotonic() - start
    out.put((samples, errors[0], total, unique, elapsed))


# -- the service under test ---------------------------------------------------------------


class Service:
    def __init__(self, database_url: str, fake_url: str, folder: Path) -> None:
        self.port = free_port()
        self.folder = folder
        self.env = {
            **{k: v for k, v in os.environ.items() if not k.startswith("MUTUALAID_")},
            "DATABASE_URL": database_url,
            "MUTUALAID_SECRET_KEY": "bench-secret-key-0123456789",
            "MUTUALAID_DATA_KEY": "be" * 64,
            "MUTUALAID_SMS_BACKEND": "twilio",
            "MUTUALAID_TWILIO_ACCOUNT_SID": ACCOUNT,
            "MUTUALAID_TWILIO_AUTH_TOKEN": TOKEN,
            "MUTUALAID_TWILIO_FROM": "+15005550006",
            "MUTUALAID_TWILIO_API_BASE_URL": fake_url,
            "MUTUALAID_SMS_RATE_LIMIT": "100000",
            "MUTUALAID_MATCH_INTERVAL_SECONDS": "60",
            "MUTUALAID_MATCH_DEBOUNCE_SECONDS": "60",
            "MUTUALAID_LOG_LEVEL": "WARNING",
            "MUTUALAID_WORKER_POLL_SECONDS": "0.2",
        }
        self.procs: list[subprocess.Popen] = []

    def prepare(self, volunteers: int, requests: int = 0) -> None:
        """Migrate, load the places, and add ``volunteers`` offers and ``requests`` open
        requests scattered over Brooklyn (each with a phone of its own): in one process,
        as the launcher prepares (`mutualaid db upgrade` and `mutualaid places load` would
        each import the app again)."""
        code = (
            "from flask_migrate import upgrade\n"
            "from mutualaid import create_app\n"
            "from mutualaid.cli import places_load\n"
            "from mutualaid.extensions import db\n"
            "from mutualaid.services.intake import NewOffer, NewRequest\n"
            "from mutualaid.services.intake import create_request, save_offer\n"
            "from mutualaid.services.location import Gazetteer, Resolver\n"
            "import random\n"
            "app = create_app()\n"
            "rng = random.Random(5)\n"
            "def where():\n"
            "    return f'{40.60 + rng.random() * 0.15:.5f},{-74.02 + rng.random() * 0.15:.5f}'\n"
            "with app.app_context():\n"
            "    upgrade()\n"
            "    loaded = app.test_cli_runner().invoke(places_load, [])\n"
            "    assert loaded.exit_code == 0, loaded.output\n"
            "    keys = list(app.extensions['categories'])\n"
            "    resolver = Resolver(Gazetteer.from_session(db.session))\n"
            f"    for i in range({volunteers}):\n"
            "        save_offer(db.session, NewOffer(phone=f'+1347{2000000 + i:07d}',\n"
            "            categories=tuple(rng.sample(keys, 2)), location_text=where(),\n"
            "            radius_km=5.0, capacity=2), resolver=resolver, categories=keys)\n"
            f"    for i in range({requests}):\n"
            "        create_request(db.session, NewRequest(phone=f'+1929{2000000 + i:07d}',\n"
            "            category=rng.choice(keys), location_text=where()),\n"
            "            resolver=resolver, categories=keys)\n"
            "    db.session.commit()\n"
        )
        subprocess.run(
            [sys.executable, "-c", code],
            env=self.env,
            cwd=self.folder,
            check=True,
            capture_output=True,
        )

    def start(self) -> None:
        log = open(self.folder / "service.log", "w")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
                    "--config",
                    "python:mutualaid.gunicorn_config",
                    "--bind",
                    f"127.0.0.1:{self.port}",
                    "--workers",
                    "2",
                    "--backlog",
                    "2048",
                    "mutualaid.wsgi:app",
                ],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        self.procs.append(
            subprocess.Popen(
                [str(BIN / "mutualaid"), "worker"],
                env=self.env,
                cwd=self.folder,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        )
        # Ready when both web workers have loaded the app (a few requests answered).
        deadline = time.monotonic() + 120
        answered = 0
        while time.monotonic() < deadline and answered < 10:
            try:
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
                conn.request("GET", "/healthz")
                answered += conn.getresponse().status == 200
                conn.close()
            except OSError:
                time.sleep(0.2)
        if answered < 10:
            raise RuntimeError("the service did not start; see service.log")

    def stop(self) -> None:
        """SIGTERM, as a platform stops a service; what has not stopped within a minute
        (a niced worker on a loaded machine finishing its job) is killed, and every
        process is reaped."""
        for proc in self.procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def run_phase(port: int, phase: Phase, seed: int) -> PhaseResult:
    out: mp.Queue = mp.Queue()
    proc = mp.Process(target=generate, args=(port, phase, seed, out))
    proc.start()
    samples, errors, sent, unique, elapsed = out.get()
    proc.join()
    return PhaseResult(phase.name, sent, unique, sent / elapsed, samples, errors)


def counts(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        q = lambda sql: int(conn.scalar(sa.text(sql)))  # noqa: E731
        result = {
            "inbound": q("SELECT count(*) FROM messages WHERE direction = 'inbound'"),
            "received": q(
                "SELECT count(*) FROM messages WHERE direction = 'inbound' AND status = 'received'"
            ),
            "outbound": q(
                "SELECT count(*) FROM messages WHERE direction = 'outbound' "
                "AND status NOT IN ('suppressed')"
            ),
            "sent": q(
                "SELECT count(*) FROM messages WHERE direction = 'outbound' "
                "AND provider_sid IS NOT NULL"
            ),
            "runs": q("SELECT count(*) FROM matching_runs"),
        }
    engine.dispose()
    return result


@dataclass
class Run:
    started: float  # Unix timestamps
    finished: float
    requests: int
    volunteers: int


def matching_runs(database_url: str) -> list[Run]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        rows = conn.execute(
            sa.text(
                "SELECT started_at, finished_at, requests_considered, volunteers_considered "
                "FROM matching_runs WHERE finished_at IS NOT NULL ORDER BY started_at"
            )
        ).all()
    engine.dispose()

    def stamp(value) -> float:
        if isinstance(value, str):  # SQLite
            value = dt.datetime.fromisoformat(value)
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value.timestamp()

    return [Run(stamp(a), stamp(b), r, v) for a, b, r, v in rows]


class Backlog(threading.Thread):
    """Samples the texts stored but not yet handled by the worker, every ``every`` s."""

    def __init__(self, database_url: str, every: float = 2.0) -> None:
        super().__init__(daemon=True)
        self.engine = sa.create_engine(database_url)
        self.every = every
        self.samples: list[tuple[float, int]] = []
        self.stopped = threading.Event()

    def run(self) -> None:
        while not self.stopped.wait(self.every):
            with self.engine.connect() as conn:
                n = conn.scalar(
                    sa.text(
                        "SELECT count(*) FROM messages "
                        "WHERE direction = 'inbound' AND status = 'received'"
                    )
                )
            self.samples.append((time.time(), int(n)))

    def stop(self) -> None:
        self.stopped.set()
        self.join()
        self.engine.dispose()


@dataclass
class Row:
    """One figure with its goal, as bench/report.py prints it."""

    benchmark: str
    figure: str
    value: str
    goal: str
    met: bool | None

    def line(self) -> str:
        mark = {True: "met", False: "MISSED", None: ""}[self.met]
        return f"{self.benchmark:18} {self.figure:44} {self.value:>22}  {self.goal:24} {mark}"


def matching_effect(samples: list[tuple[float, float]], runs: list[Run]) -> tuple[list, list]:
    """Latencies of requests scheduled while a matching run was going on, and the others."""
    during, baseline = [], []
    for at, latency in samples:
        busy = any(run.started <= at <= run.finished for run in runs)
        (during if busy else baseline).append(latency)
    return during, baseline


def bench(
    db: str,
    phases: list[Phase],
    volunteers: int,
    requests: int,
    goal_rates: dict[str, float],
    timeline: Path | None = None,
) -> list[Row]:
    from tests.fakes.twilio import FakeTwilio

    name = f"load ({db})"
    rows: list[Row] = []

    def row(figure: str, value: str, goal: str = "", met: bool | None = None) -> None:
        rows.append(Row(name, figure, value, goal, met))
        print(rows[-1].line(), flush=True)

    with tempfile.TemporaryDirectory() as tmp, FakeTwilio(ACCOUNT, TOKEN) as fake:
        folder = Path(tmp)
        if db == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
        else:
            pg_name = f"mutualaid_bench_{os.getpid()}"
            admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{pg_name}"'))
            url = sa.engine.make_url(PG_BASE).set(database=pg_name).render_as_string(False)
        service = Service(url, fake.base_url, folder)
        service.prepare(volunteers, requests)
        service.start()
        backlog = Backlog(url)
        try:
            backlog.start()
            unique_total = 0
            load_started = time.time()
            results = []
            for i, phase in enumerate(phases):
                result = run_phase(service.port, phase, seed=i + 1)
                results.append(result)
                unique_total += result.unique
                label = f"{phase.name} {phase.rate:.0f}/s for {phase.seconds:.0f} s"
                want = goal_rates[phase.name]
                row(
                    f"{label}: rate held",
                    f"{result.held_rate:.1f}/s",
                    f">= {want:.0f}/s",
                    result.held_rate >= 0.98 * want and phase.rate >= want,
                )
                p99_goal = 250 if phase.name == "sustained" else 1000
                row(f"{label}: p50 / p95", f"{result.pct(0.5):.0f} / {result.pct(0.95):.0f} ms")
                row(
                    f"{label}: p99",
                    f"{result.pct(0.99):.0f} ms",
                    f"< {p99_goal} ms",
                    result.pct(0.99) < p99_goal,
                )
                row(f"{label}: errors", str(result.errors), "0", result.errors == 0)
            load_ended = time.time()
            # The worker handles what the webhook stored, then sends the replies: wait (up to
            # 20 minutes) for both before counting.
            deadline = time.monotonic() + 1200
            c = counts(url)
            while (c["received"] or c["sent"] < c["outbound"]) and time.monotonic() < deadline:
                time.sleep(2)
                c = counts(url)
            time.sleep(2)  # a send in flight reaches the fake before its row says sent
            c = counts(url)
            backlog.stop()
            drained = next(
                (at for at, n in backlog.samples if at > load_ended and n == 0), float("nan")
            )
            # Every message at the fake API has its own sid: a duplicate send shows as more
            # messages there than outbox rows marked sent.
            duplicates = len(fake.messages) - c["sent"]
            row(
                "inbound stored / unique sent",
                f"{c['inbound']} / {unique_total}",
                "equal",
                c["inbound"] == unique_total,
            )
            row(
                "texts handled by the worker",
                f"{c['inbound'] - c['received']} / {c['inbound']}",
                "all",
                c["received"] == 0,
            )
            peak = max((n for _, n in backlog.samples), default=0)
            row(
                "handling backlog: peak, drained after load",
                f"{peak} texts, {drained - load_ended:.0f} s",
            )
            row(
                "outbound sent / queued",
                f"{c['sent']} / {c['outbound']}",
                "equal",
                c["sent"] == c["outbound"],
            )
            row("duplicate sends at the fake API", str(duplicates), "0", duplicates == 0)
            runs = [
                r
                for r in matching_runs(url)
                if r.finished >= load_started and r.started <= load_ended
            ]
            largest = max(runs, key=lambda r: r.requests * r.volunteers, default=None)
            row(
                "matching runs during the load (largest)",
                f"{len(runs)} ({largest.requests} x {largest.volunteers})" if largest else "0",
                ">= 1 of 3000 x 3000",
                largest is not None and min(largest.requests, largest.volunteers) >= 3000,
            )
            if timeline is not None:
                timeline.write_text(
                    json.dumps(
                        {
                            "samples": [s for r in results for s in r.samples],
                            "runs": [r.__dict__ for r in matching_runs(url)],
                            "backlog": backlog.samples,
                        }
                    )
                )
            sustained = [s for r in results if r.name == "sustained" for s in r.samples]
            during, baseline = matching_effect(sustained, runs)
            p_during, p_base = percentile(during, 0.99), percentile(baseline, 0.99)
            row(
                "p99 during matching runs vs without",
                f"{p_during:.0f} vs {p_base:.0f} ms",
                "<= 2x without",
                bool(during) and p_during <= 2 * p_base,
            )
        finally:
            if backlog.is_alive():
                backlog.stop()
            service.stop()
            if db != "sqlite":
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{pg_name}" WITH (FORCE)'))
                admin.dispose()
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--burst-rate", type=float, default=200)
    parser.add_argument("--burst-seconds", type=float, default=60)
    parser.add_argument("--volunteers", type=int, default=3000)
    parser.add_argument("--requests", type=int, default=3000, help="open requests to start with")
    parser.add_argument("--summary", type=Path, help="write the figures here as JSON rows")
    parser.add_argument(
        "--timeline", type=Path, help="write every latency, matching run and backlog sample here"
    )
    args = parser.parse_args()
    phases = [
        Phase("sustained", args.rate, args.seconds),
        Phase("burst", args.burst_rate, args.burst_seconds),
    ]
    print(
        "goals: sustained 50/s for 10 min with p99 < 250 ms and 0 errors; burst 200/s for "
        "60 s with p99 < 1 s; stored == unique sent; 0 duplicates; p99 during a matching "
        "run over 3000 x 3000 at most twice the p99 without"
    )
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    rows: list[Row] = []
    for db in dbs:
        timeline = args.timeline.with_suffix(f".{db}.json") if args.timeline else None
        rows += bench(
            db, phases, args.volunteers, args.requests, {"sustained": 50, "burst": 200}, timeline
        )
    if args.summary:
        args.summary.write_text(json.dumps([r.__dict__ for r in rows], indent=2) + "\n")


if __name__ == "__main__":
    main()
