"""Chaos benchmark: the real service (gunicorn, 2 workers, and the worker) while things
break, Twilio's side played by the fake API (tests/fakes/twilio/). Prints one line per
figure, with its goal, and writes them as JSON rows with ``--summary PATH``.

1. ``kill -9`` of a gunicorn web worker, three times, under signed webhooks at a steady
   rate: every delivery that got no 200 is retried as Twilio retries, and then every
   message is stored exactly once.
2. ``kill -9`` of the outbox worker mid-send: runs tests/e2e/test_worker_kill.py (nothing
   lost, no duplicate at the fake API) and quotes its figures.
3. PostgreSQL restarted under load, on a throwaway cluster of our own (initdb into a
   temporary folder, a free port; never the shared server): the seconds until webhooks
   succeed again (goal: under 10), and every message, retried ones included, stored once.
4. The service down for 5 minutes: texts the fake received meanwhile (dated across those
   5 minutes rather than waiting them out) imported by ``mutualaid recover-inbound``, each
   once, and a second run imports nothing.

    python bench/chaos.py                        # all four, web-worker kill on both databases
    python bench/chaos.py --only web-kill,pg-restart --db sqlite --summary chaos.json
"""

from __future__ import annotations

import argparse
import collections
import contextlib
import getpass
import glob
import http.client
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import traceback
import urllib.parse
import warnings
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.load import ACCOUNT, TOKEN, Service, free_port  # noqa: E402

ARTIFACTS = ROOT / "test-artifacts"
OURS = "+15005550006"
BODIES = [
    "need groceries 11216",
    "HELP",
    "necesito comida 11221",
    "offer rides groceries 11216 3km",
    "need a ride to the clinic 11233",
    "STATUS",
]
RECOVERY_GOAL_SECONDS = 10.0


# -- webhooks as Twilio sends (and re-sends) them ------------------------------------------


@dataclass
class Delivery:
    """One text: its signed webhook, when it is due (seconds from the start), and what
    happened to each attempt."""

    params: dict[str, str]
    signature: str
    due: float
    statuses: list[int | None] = field(default_factory=list)
    sent_at: float = 0.0  # monotonic times of the first attempt
    done_at: float = 0.0
    late: bool = False  # the first answer came more than a second after it was due

    @property
    def sid(self) -> str:
        return self.params["MessageSid"]

    @property
    def first_ok(self) -> bool:
        return bool(self.statuses) and self.statuses[0] == 200

    @property
    def ok(self) -> bool:
        return bool(self.statuses) and self.statuses[-1] == 200


def texts(
    fake, port: int, count: int, rate: float, seed: int, *, listed: bool = False
) -> list[Delivery]:
    """``count`` texts from different people, each with the webhook Twilio would sign for
    our address. Only ``listed`` ones are in the fake's message list, where the worker's
    recovery job could import them before their webhooks arrive."""
    rng = random.Random(seed)
    url = f"http://127.0.0.1:{port}/sms/inbound"
    out = []
    for i in range(count):
        if listed:
            hook = fake.inbound_webhook(url, f"+1646{rng.randint(2000000, 9999999)}", OURS, "HELP")
            out.append(Delivery(hook.params, hook.signature, i / rate))
            continue
        params = {
            "MessageSid": f"SM{seed:04d}{i:028d}",
            "AccountSid": ACCOUNT,
            # A valid number (an exchange never starts with 0 or 1): others are refused.
            "From": f"+1718{2 + seed % 8}{rng.randint(100000, 999999)}",
            "To": OURS,
            "Body": rng.choice(BODIES),
            "NumMedia": "0",
        }
        out.append(Delivery(params, fake.sign(url, params).signature, i / rate))
    return out


def post(port: int, delivery: Delivery) -> int | None:
    """POST the webhook once; its HTTP status, or None when the connection failed."""
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=20)
    try:
        conn.request(
            "POST",
            "/sms/inbound",
            body=urllib.parse.urlencode(delivery.params),
            headers={
                "Content-Type": "application/x-www-form-urlencoded",
                "X-Twilio-Signature": delivery.signature,
            },
        )
        response = conn.getresponse()
        response.read()
        return response.status
    except (OSError, http.client.HTTPException):
        return None
    finally:
        conn.close()


def drive(
    port: int, deliveries: list[Delivery], events: list[tuple[float, Callable[[], None]]]
) -> float:
    """Send each delivery at its due time (open loop, 32 connections at most) and run each
    event at its time; returns the monotonic start."""
    start = time.monotonic() + 0.3

    def send(delivery: Delivery) -> None:
        time.sleep(max(0.0, start + delivery.due - time.monotonic()))
        delivery.sent_at = time.monotonic()
        delivery.statuses.append(post(port, delivery))
        delivery.done_at = time.monotonic()
        delivery.late = delivery.done_at - (start + delivery.due) > 1.0

    with ThreadPoolExecutor(32) as pool:
        futures = [pool.submit(send, d) for d in deliveries]
        for at, event in sorted(events, key=lambda e: e[0]):
            time.sleep(max(0.0, start + at - time.monotonic()))
            event()
        for future in futures:
            future.result()
    return start


def retry_like_twilio(port: int, deliveries: list[Delivery], *, rounds: int = 30) -> int:
    """Re-send every delivery that got no 200 until it does (a second apart, as many
    rounds as needed up to ``rounds``); returns how many needed a retry."""
    pending = [d for d in deliveries if not d.ok]
    retried = len(pending)
    for _ in range(rounds):
        if not pending:
            break
        time.sleep(1.0)
        for delivery in pending:
            delivery.statuses.append(post(port, delivery))
        pending = [d for d in pending if not d.ok]
    return retried


def stored_inbound(database_url: str) -> collections.Counter[str]:
    """How many inbound rows each MessageSid has."""
    engine = sa.create_engine(database_url)
    try:
        with engine.connect() as conn:
            rows = conn.execute(
                sa.text(
                    "SELECT provider_sid, count(*) FROM messages "
                    "WHERE direction = 'inbound' GROUP BY provider_sid"
                )
            )
            return collections.Counter(dict(rows.all()))
    finally:
        engine.dispose()


@dataclass
class Stored:
    """Every text sent against what the database holds."""

    sent: int
    once: int
    lost: int
    duplicates: int
    unknown: int  # rows whose MessageSid nobody sent

    @classmethod
    def check(cls, database_url: str, sids: list[str]) -> Stored:
        counts = stored_inbound(database_url)
        return cls(
            sent=len(sids),
            once=sum(counts[s] == 1 for s in sids),
            lost=sum(counts[s] == 0 for s in sids),
            duplicates=sum(max(0, n - 1) for n in counts.values()),
            unknown=len(set(counts) - set(sids)),
        )

    @property
    def exact(self) -> bool:
        return self.once == self.sent and not (self.duplicates or self.unknown)

    def __str__(self) -> str:
        return (
            f"{self.once} of {self.sent} stored exactly once, {self.lost} lost, "
            f"{self.duplicates} duplicates"
        )


def outbox_settled(
    database_url: str, fake, *, stall_seconds: float = 90, most_seconds: float = 600
) -> tuple[int, int, int]:
    """Wait until the worker has handled every text and sent every reply; (replies sent,
    still pending: texts unhandled and replies unsent, duplicates at the fake API:
    messages there that no row records).

    A worker that is still getting through its backlog is waited for (a loaded machine
    handles a few texts a second); one that makes no progress for ``stall_seconds`` is
    stuck, and what it left is counted as pending."""
    engine = sa.create_engine(database_url)
    started = time.monotonic()
    least, progressed = None, started
    try:
        while True:
            with engine.connect() as conn:
                pending = conn.execute(
                    sa.text(
                        "SELECT count(*) FROM messages WHERE status IN "
                        "('received', 'queued', 'sending')"  # texts unhandled, replies unsent
                    )
                ).scalar_one()
            now = time.monotonic()
            if least is None or pending < least:
                least, progressed = pending, now
            if not pending or now - progressed > stall_seconds or now - started > most_seconds:
                break
            time.sleep(1.0)
        time.sleep(2.0)  # a send in flight reaches the fake before its row says sent
        with engine.connect() as conn:
            recorded = set(
                conn.execute(
                    sa.text(
                        "SELECT provider_sid FROM messages "
                        "WHERE direction = 'outbound' AND provider_sid IS NOT NULL"
                    )
                ).scalars()
            )
        # A message sent twice leaves a second one at the fake that no row records.
        return len(recorded), pending, sum(m["sid"] not in recorded for m in fake.messages)
    finally:
        engine.dispose()


# -- a PostgreSQL cluster of our own -----------------------------------------------------


def postgres_bin() -> Path | None:
    """The newest PostgreSQL server binaries installed (Debian's layout), if any."""
    found = sorted(
        glob.glob("/usr/lib/postgresql/*/bin/initdb"),
        key=lambda p: int(re.search(r"/(\d+)/bin/", p)[1]),
    )
    return Path(found[-1]).parent if found else None


class ThrowawayPostgres:
    """initdb into a temporary folder, served on a free port of 127.0.0.1 with its socket
    in that folder; restartable; removed by stop(). As root it runs as the postgres user
    (PostgreSQL refuses root)."""

    def __init__(self) -> None:
        bin_dir = postgres_bin()
        if bin_dir is None:
            raise RuntimeError("no PostgreSQL server binaries under /usr/lib/postgresql")
        self.bin = bin_dir
        self.folder = Path(tempfile.mkdtemp(prefix="mutualaid-chaos-pg-"))
        self.data = self.folder / "data"
        self.port = free_port()
        self.as_user: list[str] = []
        if os.geteuid() == 0:
            shutil.chown(self.folder, "postgres", "postgres")
            self.as_user = ["runuser", "-u", "postgres", "--"]
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"
        self.log = str(self.folder / "server.log")

    def _ctl(self, *args: str) -> None:
        # The server's output goes to its log (-l), never to a pipe we would wait on.
        with open(self.folder / "pg_ctl.out", "ab") as out:
            subprocess.run(
                [*self.as_user, str(self.bin / "pg_ctl"), "-D", str(self.data), *args],
                check=True,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                timeout=120,
            )

    def start(self) -> ThrowawayPostgres:
        subprocess.run(
            [
                *self.as_user,
                str(self.bin / "initdb"),
                "-D",
                str(self.data),
                "-U",
                "postgres",
                "-A",
                "trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
            check=True,
            capture_output=True,
            timeout=120,
        )
        options = (
            f"-p {self.port} -k {self.folder} -c listen_addresses=127.0.0.1 "
            "-c fsync=off -c max_connections=100"
        )
        self._ctl("-o", options, "-l", self.log, "-w", "start")
        return self

    def restart(self, mode: str = "fast") -> None:
        self._ctl("-m", mode, "-l", self.log, "-w", "restart")

    def stop(self) -> None:
        with contextlib.suppress(subprocess.SubprocessError, OSError):
            self._ctl("-m", "immediate", "-w", "stop")
        shutil.rmtree(self.folder, ignore_errors=True)


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[ThrowawayPostgres]:
    cluster = ThrowawayPostgres()
    try:
        yield cluster.start()
    finally:
        cluster.stop()


# -- the service ---------------------------------------------------------------------------


@contextlib.contextmanager
def running(
    database_url: str, fake, name: str, *, lease_seconds: float | None = None
) -> Iterator[Service]:
    """bench/load.py's service (gunicorn with 2 workers, and the worker) on
    ``database_url``, migrated and with places loaded; stopped afterwards, its log kept
    as test-artifacts/chaos-<name>.log. ``lease_seconds``: the outbox lease, after which
    a send cut off mid-way (its fate unknown) is reconciled with the provider and resent
    if it never arrived (60 s by default)."""
    with tempfile.TemporaryDirectory(prefix="mutualaid-chaos-") as folder:
        service = Service(database_url, fake.base_url, Path(folder))
        if lease_seconds is not None:
            service.env["MUTUALAID_OUTBOX_LEASE_SECONDS"] = str(lease_seconds)
        # Not niced: in the suite three other test processes share the two cores, and a
        # worker at nice 10 among them gets a few per cent of one; it drained the outbox
        # and stopped so slowly that a run was cut off. What is measured here is loss and
        # duplication, not who gets the CPU first (bench/load.py measures that).
        service.env["MUTUALAID_WORKER_NICE"] = "0"
        service.prepare(0)
        with warnings.catch_warnings():
            # Service.start leaves its log file for the processes to hold: not a leak here.
            warnings.simplefilter("ignore", ResourceWarning)
            service.start()
        try:
            warm_up(service.port)
            yield service
        finally:
            service.stop()
            ARTIFACTS.mkdir(exist_ok=True)
            shutil.copy(service.folder / "service.log", ARTIFACTS / f"chaos-{name}.log")


def warm_up(port: int, *, seconds: float = 120) -> None:
    """Wait until the web workers answer promptly (gunicorn listens before its workers
    have imported the app): ten /healthz in a row, each within half a second."""
    deadline = time.monotonic() + seconds
    prompt = 0
    while prompt < 10:
        if time.monotonic() > deadline:
            raise RuntimeError("the web workers did not answer promptly")
        started = time.monotonic()
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        try:
            conn.request("GET", "/healthz")
            ok = conn.getresponse().status == 200
        except (OSError, http.client.HTTPException):
            ok = False
        finally:
            conn.close()
        prompt = prompt + 1 if ok and time.monotonic() - started < 0.5 else 0
        time.sleep(0.05)


def web_workers(service: Service) -> list[int]:
    """The pids of gunicorn's workers (the master's children)."""
    master = service.procs[0].pid
    with contextlib.suppress(OSError):
        return [int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split()]
    return []


def busy_web_workers(service: Service) -> list[int]:
    """The workers holding a client's connection to the service: in the middle of a
    request (a sync worker closes each connection once it has answered). Linux /proc."""
    port = f":{service.port:04X}"
    connections = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if fields[1].endswith(port) and fields[3] == "01":  # ESTABLISHED
                    connections.add(f"socket:[{fields[9]}]")
    busy = []
    for pid in web_workers(service):
        with contextlib.suppress(OSError):
            if any(os.readlink(fd) in connections for fd in Path(f"/proc/{pid}/fd").iterdir()):
                busy.append(pid)
    return busy


# -- the scenarios ---------------------------------------------------------------------------


@dataclass
class WebKill:
    kills: int
    without_200: int
    stored: Stored
    first_answers: dict[str, int]  # HTTP status of each first delivery ("none": cut off)


def web_worker_kill(
    database_url: str,
    *,
    messages: int = 480,
    rate: float = 40,
    kills: int = 20,
    enough: int = 5,
) -> WebKill:
    """Webhooks at ``rate`` a second while gunicorn workers are killed (-9) in the middle
    of a request, at up to ``kills`` moments spread over the run, until ``enough``
    deliveries went unanswered (a kill between two requests cuts none off); then
    Twilio's retries; then the count."""
    from tests.fakes.twilio import FakeTwilio

    name = f"web-kill-{sa.engine.make_url(database_url).get_backend_name()}"
    with FakeTwilio(ACCOUNT, TOKEN) as fake, running(database_url, fake, name) as service:
        deliveries = texts(fake, service.port, messages, rate, seed=1)
        done: list[int] = []
        rng = random.Random(2)

        def kill() -> None:
            if sum(d.statuses[:1] == [None] for d in deliveries) >= enough:
                return
            # A worker in the middle of a request, if one shows within a second.
            deadline = time.monotonic() + 1.0
            while not (victims := busy_web_workers(service)) and time.monotonic() < deadline:
                time.sleep(0.001)
            victims = victims or web_workers(service)
            if victims:
                os.kill(rng.choice(victims), signal.SIGKILL)
                done.append(1)

        span = messages / rate
        moments = [span * (i + 1) / (kills + 1) for i in range(kills)]
        drive(service.port, deliveries, [(at, kill) for at in moments])
        without_200 = retry_like_twilio(service.port, deliveries)
        stored = Stored.check(database_url, [d.sid for d in deliveries])
        answers = collections.Counter(str(d.statuses[0]).lower() for d in deliveries)
        return WebKill(len(done), without_200, stored, dict(answers))


@dataclass
class PgRestart:
    recovery_seconds: float
    failed: int
    stored: Stored
    replies_sent: int
    replies_pending: int
    duplicate_sends: int
    worker_alive: bool


def postgres_restart(
    cluster: ThrowawayPostgres,
    *,
    messages: int = 400,
    rate: float = 20,
    restart_at: float = 6.0,
    mode: str = "fast",
) -> PgRestart:
    """Webhooks at ``rate`` a second; ``pg_ctl restart`` at ``restart_at`` seconds. The
    recovery time runs from the restart command to the first moment after which every
    webhook sent succeeded; then Twilio's retries, the count, and the outbox drained."""
    from tests.fakes.twilio import FakeTwilio

    with (
        FakeTwilio(ACCOUNT, TOKEN) as fake,
        # A send the restart cut off waits out its lease before it is reconciled: 10 s
        # here, not the default 60 s, so the drain below does not mostly wait.
        running(cluster.url, fake, "pg-restart", lease_seconds=10) as service,
    ):
        deliveries = texts(fake, service.port, messages, rate, seed=3)
        restarted: list[float] = []

        def restart() -> None:
            restarted.append(time.monotonic())
            threading.Thread(target=cluster.restart, args=(mode,), daemon=True).start()

        drive(service.port, deliveries, [(restart_at, restart)])
        # Down until the last webhook that failed or answered late; then all are prompt.
        troubled = [
            d.done_at
            for d in deliveries
            if (not d.first_ok or d.late) and d.done_at >= restarted[0]
        ]
        recovered_at = max(troubled, default=restarted[0])
        failed = sum(not d.first_ok for d in deliveries)
        retry_like_twilio(service.port, deliveries)
        stored = Stored.check(cluster.url, [d.sid for d in deliveries])
        sent, pending, duplicates = outbox_settled(cluster.url, fake)
        worker_alive = service.procs[1].poll() is None
        return PgRestart(
            recovery_seconds=max(0.0, recovered_at - restarted[0]),
            failed=failed,
            stored=stored,
            replies_sent=sent,
            replies_pending=pending,
            duplicate_sends=duplicates,
            worker_alive=worker_alive,
        )


@dataclass
class Outage:
    delivered: int
    while_down: int
    first_run: int
    second_run: int
    stored: Stored


def outage(database_url: str, *, delivered: int = 20, while_down: int = 60) -> Outage:
    """``delivered`` texts reach the running service; it stops; ``while_down`` more reach
    Twilio, dated across the last 5 minutes; ``mutualaid recover-inbound`` runs twice."""
    import datetime as dt

    from tests.fakes.twilio import FakeTwilio

    with FakeTwilio(ACCOUNT, TOKEN) as fake:
        with running(database_url, fake, "outage") as service:
            before = texts(fake, service.port, delivered, rate=20, seed=4, listed=True)
            drive(service.port, before, [])
            retry_like_twilio(service.port, before)
            service.stop()
            service.procs.clear()  # stopped: nothing left for running() to stop
            # Down: people go on texting; Twilio keeps what it cannot deliver.
            rng = random.Random(5)
            start = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)
            for i in range(while_down):
                fake.add_inbound(
                    f"+1347{rng.randint(1000000, 9999999)}",
                    OURS,
                    rng.choice(BODIES),
                    received_at=start + dt.timedelta(seconds=300 * i / while_down),
                )
            runs = [recover_cli(service.env, service.folder) for _ in range(2)]
        sids = [m["sid"] for m in fake.inbound]
    return Outage(delivered, while_down, *runs, Stored.check(database_url, sids))


def recover_cli(env: dict[str, str], folder: Path) -> int:
    done = subprocess.run(
        [sys.executable, "-m", "mutualaid", "recover-inbound", "--hours", "1"],
        env=env,
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=True,
    )
    return int(re.search(r"Recovered (\d+) inbound", done.stdout)[1])


def outbox_worker_kill() -> tuple[str, bool]:
    """tests/e2e/test_worker_kill.py, run as it runs in the suite (on PostgreSQL too when
    MUTUALAID_TEST_DATABASE_URL is set); its figures and whether it passed."""
    artifact = ROOT / "test-artifacts" / "worker-kill.txt"
    before = artifact.stat().st_size if artifact.exists() else 0
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-n",
            "0",
            "-p",
            "no:cacheprovider",
            "tests/e2e/test_worker_kill.py",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    lines = artifact.read_bytes()[before:].decode().strip() if artifact.exists() else ""
    return lines or done.stdout[-500:], done.returncode == 0


# -- the report -----------------------------------------------------------------------------


class Report:
    def __init__(self) -> None:
        self.rows: list[dict[str, object]] = []

    def add(self, figure: str, value: str, goal: str, met: bool | None) -> None:
        self.rows.append(
            {"benchmark": "chaos", "figure": figure, "value": value, "goal": goal, "met": met}
        )
        mark = {True: "met", False: "NOT MET", None: "-"}[met]
        print(f"{figure:42} {value}  [goal: {goal}: {mark}]", flush=True)

    def failed(self, figure: str, goal: str, exc: BaseException) -> None:
        traceback.print_exception(exc)
        self.add(figure, f"error: {type(exc).__name__}: {exc}"[:300], goal, False)


SCENARIOS = ("web-kill", "outbox-kill", "pg-restart", "outage")
ONCE = "every text stored exactly once"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", default=",".join(SCENARIOS), help="comma-separated scenarios")
    parser.add_argument("--db", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-mode", choices=["fast", "immediate"], default="fast")
    parser.add_argument("--summary", type=Path, help="write the figures here as JSON rows")
    args = parser.parse_args()
    chosen = [s.strip() for s in args.only.split(",") if s.strip()]
    unknown = set(chosen) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios {sorted(unknown)}; choose from {', '.join(SCENARIOS)}")
    databases = ["sqlite", "postgresql"] if args.db == "both" else [args.db]
    if ("postgresql" in databases or "pg-restart" in chosen) and postgres_bin() is None:
        parser.error("PostgreSQL server binaries not found under /usr/lib/postgresql")
    print(f"chaos benchmark as {getpass.getuser()}: {', '.join(chosen)}", flush=True)

    report = Report()
    with contextlib.ExitStack() as stack:
        cluster = None
        if "pg-restart" in chosen or ("postgresql" in databases and "web-kill" in chosen):
            cluster = stack.enter_context(throwaway_postgres())
        folder = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="mutualaid-chaos-")))

        def url(db: str, name: str) -> str:
            if db == "sqlite":
                return f"sqlite:///{folder}/{name}.db"
            engine = sa.create_engine(cluster.url, isolation_level="AUTOCOMMIT")
            with engine.connect() as conn:
                conn.execute(sa.text(f'CREATE DATABASE "{name}"'))
            engine.dispose()
            return sa.engine.make_url(cluster.url).set(database=name).render_as_string(False)

        if "web-kill" in chosen:
            for db in databases:
                figure = f"kill -9 of a web worker ({db})"
                try:
                    result = web_worker_kill(url(db, "web_kill"))
                    report.add(
                        figure,
                        f"{result.kills} kills, {result.without_200} of {result.stored.sent} "
                        f"got no 200 and were retried; {result.stored}",
                        ONCE,
                        result.stored.exact and result.kills > 0,
                    )
                except Exception as exc:  # one scenario failing leaves the others to run
                    report.failed(figure, ONCE, exc)
        if "outbox-kill" in chosen:
            figures, passed = outbox_worker_kill()
            for line in figures.splitlines() or ["no figures"]:
                found = re.match(r"worker kill -9 on (\w+): (.*)", line)
                db, value = found.groups() if found else ("?", line)
                report.add(
                    f"kill -9 of the outbox worker ({db})",
                    value,
                    "0 lost, 0 duplicates at the fake API",
                    passed,
                )
        if "pg-restart" in chosen:
            goal = f"webhooks succeed again within {RECOVERY_GOAL_SECONDS:.0f} s"
            try:
                result = postgres_restart(cluster, mode=args.pg_mode)
                report.add(
                    f"PostgreSQL restart ({args.pg_mode}) under load: recovery",
                    f"{result.recovery_seconds:.1f} s ({result.failed} webhooks failed)",
                    goal,
                    result.recovery_seconds < RECOVERY_GOAL_SECONDS,
                )
                report.add(
                    "PostgreSQL restart under load: messages",
                    f"{result.stored}; replies {result.replies_sent} sent, "
                    f"{result.replies_pending} texts or replies pending, "
                    f"{result.duplicate_sends} duplicates; "
                    f"worker {'alive' if result.worker_alive else 'DEAD'}",
                    ONCE + ", then handled and answered, no reply sent twice",
                    result.stored.exact
                    and not result.replies_pending
                    and not result.duplicate_sends
                    and result.worker_alive,
                )
            except Exception as exc:
                report.failed("PostgreSQL restart under load", goal, exc)
        if "outage" in chosen:
            goal = "all imported once; a second run imports none"
            try:
                result = outage(url("sqlite", "outage"))
                report.add(
                    "service down 5 min, then recover-inbound",
                    f"{result.while_down} received while down, {result.first_run} imported, "
                    f"second run {result.second_run}; {result.stored}",
                    goal,
                    result.first_run == result.while_down
                    and result.second_run == 0
                    and result.stored.exact,
                )
            except Exception as exc:
                report.failed("service down 5 min, then recover-inbound", goal, exc)

    if args.summary:
        args.summary.write_text(json.dumps(report.rows, indent=2) + "\n")
    return 0 if all(row["met"] is not False for row in report.rows) else 1


if __name__ == "__main__":
    sys.exit(main())
