"""Load benchmark: the real service (gunicorn, 2 workers, and the worker) on SQLite or
PostgreSQL, driven with signed inbound webhooks at a fixed rate from another process,
10 % of them duplicate deliveries, while the worker sends through the fake Twilio API
and matching runs every minute.

Latency is measured from each request's *scheduled* send time (open loop), so a slow
server cannot hide behind a slow client. Prints, per database: rate held, p50/p95/p99
latency, errors, inbound stored vs unique sent, outbound sent vs queued, duplicates.

    python bench/load.py                      # both databases, the issue's goals
    python bench/load.py --db sqlite --rate 50 --seconds 60 --burst-seconds 10   # quicker
"""

from __future__ import annotations

import argparse
import http.client
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


@dataclass
class PhaseResult:
    name: str
    sent: int
    unique: int
    held_rate: float
    latencies: list[float]
    errors: int

    def pct(self, q: float) -> float:
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000


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
                "MessageSid": f"SM{seed:04d}{i:026d}",
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
    latencies: list[float] = []
    errors = [0]
    lock = threading.Lock()
    start = time.monotonic() + 0.5

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
                latencies.append(done - (start + at))
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
    out.put((latencies, errors[0], total, unique, elapsed))


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

    def prepare(self, volunteers: int) -> None:
        run = lambda *args: subprocess.run(  # noqa: E731
            [str(BIN / "mutualaid"), *args],
            env=self.env,
            cwd=self.folder,
            check=True,
            capture_output=True,
        )
        run("db", "upgrade")
        run("places", "load")
        code = (
            "from mutualaid import create_app\n"
            "from mutualaid.extensions import db\n"
            "from mutualaid.services.intake import NewOffer, save_offer\n"
            "from mutualaid.services.location import Gazetteer, Resolver\n"
            "import random\n"
            "app = create_app()\n"
            "rng = random.Random(5)\n"
            "with app.app_context():\n"
            "    keys = list(app.extensions['categories'])\n"
            "    resolver = Resolver(Gazetteer.from_session(db.session))\n"
            f"    for i in range({volunteers}):\n"
            "        lat = 40.60 + rng.random() * 0.15; lon = -74.02 + rng.random() * 0.15\n"
            "        save_offer(db.session, NewOffer(phone=f'+1347{2000000 + i:07d}',\n"
            "            categories=tuple(rng.sample(keys, 2)),\n"
            "            location_text=f'{lat:.5f},{lon:.5f}',\n"
            "            radius_km=5.0, capacity=2), resolver=resolver, categories=keys)\n"
            "    db.session.commit()\n"
        )
        subprocess.run([sys.executable, "-c", code], env=self.env, cwd=self.folder, check=True)

    def start(self) -> None:
        log = open(self.folder / "service.log", "w")  # noqa: SIM115
        self.procs.append(
            subprocess.Popen(
                [
                    str(BIN / "gunicorn"),
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
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                time.sleep(0.2)
        raise RuntimeError("the service did not start; see service.log")

    def stop(self) -> None:
        for proc in self.procs:
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                proc.kill()


def run_phase(port: int, phase: Phase, seed: int) -> PhaseResult:
    out: mp.Queue = mp.Queue()
    proc = mp.Process(target=generate, args=(port, phase, seed, out))
    proc.start()
    latencies, errors, sent, unique, elapsed = out.get()
    proc.join()
    return PhaseResult(phase.name, sent, unique, sent / elapsed, latencies, errors)


def counts(database_url: str) -> dict[str, int]:
    engine = sa.create_engine(database_url)
    with engine.connect() as conn:
        q = lambda sql: int(conn.scalar(sa.text(sql)))  # noqa: E731
        result = {
            "inbound": q("SELECT count(*) FROM messages WHERE direction = 'inbound'"),
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


def bench(db: str, phases: list[Phase], volunteers: int) -> list[str]:
    from sms.fake_twilio import FakeTwilio

    with tempfile.TemporaryDirectory() as tmp, FakeTwilio(ACCOUNT, TOKEN) as fake:
        folder = Path(tmp)
        if db == "sqlite":
            url = f"sqlite:///{folder}/bench.db"
        else:
            name = f"mutualaid_bench_{os.getpid()}"
            admin = sa.create_engine(PG_BASE, isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            url = sa.engine.make_url(PG_BASE).set(database=name).render_as_string(False)
        service = Service(url, fake.base_url, folder)
        service.prepare(volunteers)
        service.start()
        lines = []
        try:
            unique_total = 0
            for i, phase in enumerate(phases):
                result = run_phase(service.port, phase, seed=i + 1)
                unique_total += result.unique
                lines.append(
                    f"{db:10} {phase.name:9} {phase.rate:6.0f}/s {phase.seconds:5.0f}s  "
                    f"held {result.held_rate:6.1f}/s  p50 {result.pct(0.5):7.1f} ms  "
                    f"p95 {result.pct(0.95):7.1f} ms  p99 {result.pct(0.99):7.1f} ms  "
                    f"errors {result.errors}"
                )
                print(lines[-1], flush=True)
            # Let the worker drain the outbox (up to 2 minutes) before counting duplicates.
            deadline = time.monotonic() + 120
            c = counts(url)
            while c["sent"] < c["outbound"] and time.monotonic() < deadline:
                time.sleep(2)
                c = counts(url)
            time.sleep(2)  # a send in flight reaches the fake before its row says sent
            c = counts(url)
            # Every message at the fake API has its own sid: a duplicate send shows as more
            # messages there than outbox rows marked sent.
            duplicates = len(fake.messages) - c["sent"]
            lines.append(
                f"{db:10} stored {c['inbound']} inbound of {unique_total} unique sent "
                f"({'OK' if c['inbound'] == unique_total else 'MISMATCH'}); outbound "
                f"{c['sent']} sent of {c['outbound']} queued, {len(fake.messages)} at the fake "
                f"API, {duplicates} duplicates; {c['runs']} matching runs"
            )
            print(lines[-1], flush=True)
        finally:
            service.stop()
            if db != "sqlite":
                with admin.connect() as conn:
                    conn.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--rate", type=float, default=50)
    parser.add_argument("--seconds", type=float, default=600)
    parser.add_argument("--burst-rate", type=float, default=200)
    parser.add_argument("--burst-seconds", type=float, default=60)
    parser.add_argument("--volunteers", type=int, default=3000)
    args = parser.parse_args()
    phases = [
        Phase("sustained", args.rate, args.seconds),
        Phase("burst", args.burst_rate, args.burst_seconds),
    ]
    print(
        "goals: sustained 50/s for 10 min with p99 < 250 ms and 0 errors; "
        "burst 200/s for 60 s with p99 < 1 s; stored == unique sent; 0 duplicates"
    )
    dbs = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    for db in dbs:
        bench(db, phases, args.volunteers)


if __name__ == "__main__":
    main()
