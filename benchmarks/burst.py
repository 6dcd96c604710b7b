"""Load held: an anonymous burst and a noisy neighbour against the production server.

    python benchmarks/burst.py [--burst 1000] [--concurrency 50] [--rounds 3] [--victims 5]
                               [--phase-s 8] [--baseline-s 8] [--noisy-s 10] [--user-rate 5/sec]

Builds (or reuses) five victim tenants, each of its own agency with an analyst holding a personal
token and 200 scored mentions, and one noisy tenant likewise, on the embedded PostgreSQL (or
``DATABASE_URL``). Starts the production server (gunicorn with ``config/gunicorn.py``: two
gthread workers of four threads, a database pool of four connections each) and the fast task
cluster on a free loopback port. The five victims run in a process of their own (so the burst
client's threads and their GIL cannot delay the moment a victim reads its answer); each fetches
its first mention page twice a second over a kept-alive connection, the five spread evenly over
the half second. Phases:

1. **baseline** (``--baseline-s``): the victims alone (their first second left out, as in the
   other phases, where the disturbance starts a second in);
2. **burst** (``--rounds`` times, ``--phase-s`` each): ``--burst`` anonymous ``GET /readyz``
   requests, each on a new connection, ``--concurrency`` at a time, from 127.0.0.2, 127.0.0.3...
   (other loopback addresses, one a round, so each round meets a fresh rate window and this
   process's own later probes from 127.0.0.1 are not the ones rate-limited);
3. **noisy neighbour** (``--noisy-s`` seconds): one signed-in user of another tenant fetches
   their mention list at ten times ``THROTTLE_RATE_USER`` (``--user-rate``, default
   ``5/sec`` for this benchmark; see ``BENCH_USER_RATE``).

For each disturbance it prints the victims' p50/p99 while it was in flight next to the baseline
p99 (the ratio's target is at most 1.5), for the bursts also the victims' figures between bursts
(the same rounds, half a second after each burst: a baseline taken seconds away, for a machine
whose other load drifts), the victims' and the disturber's status counts and any 5xx, then
checks that the server is healthy afterwards (``/healthz`` 200, ``/readyz`` 200 once the probe
from 127.0.0.1 runs, each victim's list 200). Every loop is bounded in count and time, and only
loopback addresses are used. Progress goes to stderr; the last line of stdout is one JSON object;
the exit code is 1 when a victim saw a 5xx or the server was not healthy after.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import multiprocessing
import os
import secrets
import sys
import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    Services,
    as_owner,
    load_note,
    log,
    percentile,
    prepare_database,
    setup_django,
    sigterm_as_interrupt,
    tree_cpu_seconds,
)

MENTIONS_PER_TENANT = 200
VICTIM_RATE_PER_S = 2.0
TARGET_RATIO = 1.5
# Victims' samples this long after a burst ended count as "between" bursts.
SETTLE_S = 0.5
# Ten times this is an offered load one client process can produce on two cores; with the
# server's default (1200/min, a fixed one-minute window) a noisy user must get 1,200 answers
# within the minute before its first 429. ``--user-rate 1200/min`` measures that case.
BENCH_USER_RATE = "5/sec"
SERVER_ENV = {
    "WEB_CONCURRENCY": "2",
    "WEB_THREADS": "4",
    "DB_POOL_MIN": "1",
    "DB_POOL_MAX": "4",
    "Q_WORKERS": "1",
    "LOG_LEVEL": "WARNING",  # a JSON line per request would be the main cost of the burst
}


# --- data --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Caller:
    slug: str
    token: str


def build_tenant(slug: str, email: str) -> Caller:
    """A tenant of its own agency with an analyst, a personal token and scored mentions."""
    from monitoring import pipeline
    from monitoring.models import IngestChunk, Mention
    from monitoring.services import accept_items
    from tenants.models import Agency, Tenant, User
    from tenants.roles import Role
    from tenants.services import accept_invitation, create_tenant, invite_member, issue_token

    agency, _ = Agency.objects.get_or_create(slug=f"{slug}-agency", defaults={"name": slug})
    tenant = Tenant.objects.filter(slug=slug).first() or create_tenant(
        agency=agency, slug=slug, name=f"Burst benchmark {slug}"
    )
    user = User.objects.filter(email=email).first()
    if user is None or not user.memberships.filter(tenant=tenant).exists():
        invitation = invite_member(tenant=tenant, email=email, role=Role.ANALYST)
        user = accept_invitation(invitation=invitation, password=secrets.token_urlsafe(16)).user
    missing = MENTIONS_PER_TENANT - Mention.objects.for_tenant(tenant).count()
    if missing > 0:
        now = int(time.time())
        tag = slug.replace("-", "")
        items = [
            {
                "platform": "x",
                "external_id": f"{slug}-{now}-{n}",
                "text": f"Pelayanan {slug} nomor {n} lambat banget, kecewa #{tag}",
                "published_at": "2026-11-20T08:16:00+07:00",
                "author": {"handle": f"warga{n}", "followers": 10 * n},
            }
            for n in range(missing)
        ]
        accept_items(tenant=tenant, objects=items)
        for chunk in IngestChunk.objects.for_tenant(tenant).filter(done_at__isnull=True):
            pipeline.process_chunk(tenant.pk, chunk.pk)
    _, token = issue_token(user=user, name="burst benchmark")
    return Caller(slug=slug, token=token)


# --- HTTP --------------------------------------------------------------------------------------


@dataclass
class Sample:
    started: float
    seconds: float
    status: int  # 0: no HTTP answer (connection refused, reset or timed out)


@dataclass
class Recorder:
    samples: list[Sample] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, sample: Sample) -> None:
        with self.lock:
            self.samples.append(sample)


class Client:
    """One kept-alive connection; reconnects after an error."""

    def __init__(
        self, host: str, port: int, headers: dict[str, str], source: str | None = None
    ) -> None:
        self.host, self.port, self.headers = host, port, headers
        self.source = (source, 0) if source else None
        self.conn: http.client.HTTPConnection | None = None

    def get(self, path: str) -> Sample:
        started = time.monotonic()
        try:
            if self.conn is None:
                self.conn = http.client.HTTPConnection(
                    self.host, self.port, timeout=30, source_address=self.source
                )
            self.conn.request("GET", path, headers=self.headers)
            response = self.conn.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                self.close()
        except (OSError, http.client.HTTPException):
            self.close()
            status = 0
        return Sample(started, time.monotonic() - started, status)

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None


def fresh_get(host: str, port: int, path: str, source: str) -> Sample:
    """One request on a new connection from ``source`` (a loopback address)."""
    started = time.monotonic()
    conn = http.client.HTTPConnection(host, port, timeout=30, source_address=(source, 0))
    try:
        conn.request("GET", path, headers={"Connection": "close"})
        response = conn.getresponse()
        response.read()
        status = response.status
    except (OSError, http.client.HTTPException):
        status = 0
    finally:
        conn.close()
    return Sample(started, time.monotonic() - started, status)


def paced(
    client: Client,
    path: str,
    rate_per_s: float,
    until: float,
    out: Recorder,
    stop: threading.Event,
    offset_s: float = 0.0,
) -> None:
    """``rate_per_s`` requests a second (fewer if answers are slower) until ``until``, the
    first one ``offset_s`` from now."""
    interval = 1.0 / rate_per_s
    time.sleep(offset_s)
    next_at = time.monotonic()
    while not stop.is_set() and time.monotonic() < until:
        out.add(client.get(path))
        next_at += interval
        delay = next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        else:
            next_at = time.monotonic()  # behind: do not try to catch up in a rush
    client.close()


def run_victims(host: str, port: int, victims: list[Caller], seconds: float) -> list[Sample]:
    """Each victim fetches its first mention page ``VICTIM_RATE_PER_S`` times a second for
    ``seconds``, one thread and one kept-alive connection each, the victims spread evenly over
    the interval (five users do not click in step); answers every sample."""
    out = Recorder()
    stop = threading.Event()
    until = time.monotonic() + seconds
    threads = []
    for n, victim in enumerate(victims):
        client = Client(host, port, {"Authorization": f"Bearer {victim.token}"})
        path = f"/api/v1/tenants/{victim.slug}/mentions/"
        offset = n / (len(victims) * VICTIM_RATE_PER_S)
        thread = threading.Thread(
            target=paced,
            args=(client, path, VICTIM_RATE_PER_S, until, out, stop, offset),
            daemon=True,
        )
        thread.start()
        threads.append(thread)
    for thread in threads:
        thread.join(seconds + 60)
    return out.samples


def _victims_loop(connection: Connection, host: str, port: int, victims: list[Caller]) -> None:
    """The victims' own process: one phase per ``seconds`` received, its samples sent back."""
    while True:
        seconds = connection.recv()
        if seconds is None:
            return
        connection.send(
            [(s.started, s.seconds, s.status) for s in run_victims(host, port, victims, seconds)]
        )


class VictimProcess:
    """The signed-in victims run in a process of their own, so the burst client's fifty threads
    (and the GIL they share) cannot delay the moment a victim reads its answer: the victims'
    latencies are the server's, plus the machine's cores, which everything here shares.
    ``time.monotonic()`` is the machine's clock, so its samples line up with this process's."""

    def __init__(self, host: str, port: int, victims: list[Caller]) -> None:
        context = multiprocessing.get_context("spawn")
        self.connection, child_end = context.Pipe()
        self.process = context.Process(
            target=_victims_loop, args=(child_end, host, port, victims), daemon=True
        )
        self.process.start()
        child_end.close()
        self.seconds = 0.0

    def start(self, seconds: float) -> None:
        """Starts a phase of ``seconds``; ``samples()`` waits for its end."""
        self.seconds = seconds
        self.connection.send(seconds)

    def samples(self) -> list[Sample]:
        if not self.connection.poll(self.seconds + 120):
            raise TimeoutError("the victims' process did not answer")
        return [Sample(*sample) for sample in self.connection.recv()]

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.connection.send(None)
        self.process.join(10)
        if self.process.is_alive():
            self.process.kill()
            self.process.join()


# --- figures -----------------------------------------------------------------------------------


def statuses(samples: list[Sample]) -> dict[str, int]:
    return {str(k): v for k, v in sorted(Counter(s.status for s in samples).items())}


def five_xx(samples: list[Sample]) -> int:
    return sum(1 for s in samples if s.status >= 500 or s.status == 0)


def latency(samples: list[Sample]) -> dict[str, Any]:
    ok = [s.seconds * 1000 for s in samples if s.status == 200]
    return {
        "requests": len(samples),
        "p50_ms": round(percentile(ok, 0.5), 1),
        "p99_ms": round(percentile(ok, 0.99), 1),
        "statuses": statuses(samples),
        "5xx_or_no_answer": five_xx(samples),
    }


def within(samples: list[Sample], start: float, end: float) -> list[Sample]:
    return [s for s in samples if start <= s.started <= end]


def disturbance_figures(
    victims: list[Sample], baseline_p99: float, start: float, end: float
) -> dict[str, Any]:
    during = latency(within(victims, start, end))
    ratio = during["p99_ms"] / baseline_p99 if baseline_p99 else float("nan")
    return {
        "victims_during": during,
        "victims_p99_ratio": round(ratio, 2),
        "within_target_ratio": ratio <= TARGET_RATIO,
    }


def cpu_seconds(services: Services) -> dict[str, float]:
    """CPU seconds so far of the web server (all its workers), this client and the machine
    (the rest is other work on the machine)."""
    import psutil

    times = psutil.cpu_times()
    return {
        "web": tree_cpu_seconds(services.children["web"].pid),
        "client": sum(os.times()[:2]),
        "machine": sum(times) - times.idle - getattr(times, "iowait", 0.0),
    }


def parse_rate(rate: str) -> float:
    """Requests a second of a DRF rate (``1200/min``)."""
    count, period = rate.split("/")
    seconds = {"s": 1, "m": 60, "h": 3600, "d": 86400}[period[0]]
    return int(count) / seconds


# --- phases ------------------------------------------------------------------------------------


def baseline(victims: VictimProcess, seconds: float) -> list[Sample]:
    """The victims alone. Their first second is left out, as in the other phases (where the
    disturbance starts a second in): it holds their new connections' first requests."""
    started = time.monotonic()
    victims.start(seconds)
    return within(victims.samples(), started + 1.0, float("inf"))


def burst_phase(
    host: str,
    port: int,
    victims: VictimProcess,
    seconds: float,
    count: int,
    concurrency: int,
    source: str,
    keep_alive: bool,
) -> tuple[list[Sample], list[Sample], float, float]:
    victims.start(seconds)
    time.sleep(1.0)
    start = time.monotonic()
    if keep_alive:
        # ``concurrency`` clients, each sending its share of the burst on one connection.
        shares = [
            count // concurrency + (1 if n < count % concurrency else 0) for n in range(concurrency)
        ]

        def client_share(share: int) -> list[Sample]:
            client = Client(host, port, {}, source=source)
            answers = [client.get("/readyz") for _ in range(share)]
            client.close()
            return answers

        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            burst = [sample for part in pool.map(client_share, shares) for sample in part]
    else:
        with ThreadPoolExecutor(max_workers=concurrency) as pool:
            burst = list(pool.map(lambda _: fresh_get(host, port, "/readyz", source), range(count)))
    end = time.monotonic()
    return victims.samples(), burst, start, end


def noisy_phase(
    host: str, port: int, victims: VictimProcess, noisy: Caller, seconds: float, rate: float
) -> tuple[list[Sample], list[Sample], float, float]:
    stop = threading.Event()
    victims.start(seconds + 1.0)
    time.sleep(1.0)
    noise = Recorder()
    threads_n = max(1, min(40, round(rate / 10)))  # each paced at rate / threads
    start = time.monotonic()
    until = start + seconds
    noisy_threads = []
    for _ in range(threads_n):
        client = Client(host, port, {"Authorization": f"Bearer {noisy.token}"})
        path = f"/api/v1/tenants/{noisy.slug}/mentions/"
        thread = threading.Thread(
            target=paced, args=(client, path, rate / threads_n, until, noise, stop), daemon=True
        )
        thread.start()
        noisy_threads.append(thread)
    for thread in noisy_threads:
        thread.join(seconds + 60)
    end = time.monotonic()
    return victims.samples(), noise.samples, start, end


def healthy_after(host: str, port: int, victims: list[Caller]) -> dict[str, Any]:
    health = Client(host, port, {})
    result: dict[str, Any] = {"healthz": health.get("/healthz").status}
    deadline = time.monotonic() + 30
    ready = 0
    while time.monotonic() < deadline:
        ready = health.get("/readyz").status
        if ready == 200:
            break
        time.sleep(1.0)
    result["readyz"] = ready
    lists = []
    for victim in victims:
        client = Client(host, port, {"Authorization": f"Bearer {victim.token}"})
        lists.append(client.get(f"/api/v1/tenants/{victim.slug}/mentions/").status)
        client.close()
    health.close()
    result["victim_lists"] = lists
    result["ok"] = result["healthz"] == 200 and ready == 200 and all(s == 200 for s in lists)
    return result


def phases(
    args: argparse.Namespace,
    services: Services,
    host: str,
    port: int,
    victims: VictimProcess,
    noisy: Caller,
    noisy_rate: float,
) -> tuple[dict[str, Any], dict[str, Any], dict[str, Any]]:
    """Baseline, the bursts and the noisy neighbour: (baseline, burst, noisy) figures."""
    log(f"baseline: {args.victims} victims for {args.baseline_s:.0f} s")
    base = baseline(victims, args.baseline_s)
    base_figures = latency(base)
    base_p99 = base_figures["p99_ms"]

    during: list[Sample] = []
    between: list[Sample] = []
    burst: list[Sample] = []
    seconds: list[float] = []
    cpu_before = cpu_seconds(services)
    for round_ in range(args.rounds):
        source = f"127.0.0.{2 + round_}"  # each round a new client address
        log(f"burst {round_ + 1}: {args.burst} anonymous /readyz from {source}")
        victims_round, burst_round, b_start, b_end = burst_phase(
            host,
            port,
            victims,
            args.phase_s,
            args.burst,
            args.concurrency,
            source,
            args.keep_alive,
        )
        services.check()
        during += within(victims_round, b_start, b_end)
        between += within(victims_round, b_end + SETTLE_S, float("inf"))
        burst += burst_round
        seconds.append(round(b_end - b_start, 2))
    burst_result = {
        "rounds": args.rounds,
        "requests_per_round": args.burst,
        "concurrency": args.concurrency,
        "connections": "kept alive" if args.keep_alive else "one per request",
        "seconds_per_round": seconds,
        "statuses": statuses(burst),
        "5xx_or_no_answer": five_xx(burst),
        "p99_ms": round(percentile([s.seconds * 1000 for s in burst], 0.99), 1),
        "cpu_s": {k: round(v - cpu_before[k], 1) for k, v in cpu_seconds(services).items()},
        **disturbance_figures(during, base_p99, float("-inf"), float("inf")),
        # The same rounds' victims once each burst was over: a baseline taken seconds away from
        # the burst, for a machine whose other load drifts.
        "victims_between": latency(between),
    }
    between_p99 = burst_result["victims_between"]["p99_ms"]
    burst_result["victims_p99_ratio_to_between"] = round(
        burst_result["victims_during"]["p99_ms"] / between_p99 if between_p99 else float("nan"), 2
    )
    log(f"burst: {json.dumps(burst_result)}")

    log(f"noisy neighbour: {noisy_rate:.0f}/s offered (10x {args.user_rate}) for {args.noisy_s} s")
    n_victims, noise, n_start, n_end = noisy_phase(
        host, port, victims, noisy, args.noisy_s, noisy_rate
    )
    services.check()
    noisy_result = {
        "user_rate": args.user_rate,
        "offered_per_s": round(noisy_rate, 1),
        "sent": len(noise),
        "achieved_per_s": round(len(noise) / max(n_end - n_start, 1e-9), 1),
        "statuses": statuses(noise),
        "5xx_or_no_answer": five_xx(noise),
        **disturbance_figures(n_victims, base_p99, n_start, n_end),
    }
    log(f"noisy: {json.dumps(noisy_result)}")

    return base_figures, burst_result, noisy_result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--burst", type=int, default=1000, help="anonymous /readyz requests")
    ap.add_argument("--concurrency", type=int, default=50, help="burst requests in flight")
    ap.add_argument("--rounds", type=int, default=3, help="bursts, each from its own address")
    ap.add_argument(
        "--keep-alive",
        action="store_true",
        help="burst clients reuse their connection (default: a new connection per request)",
    )
    ap.add_argument("--victims", type=int, default=5, help="signed-in users of other tenants")
    ap.add_argument("--phase-s", type=float, default=8.0, help="seconds of each burst's phase")
    ap.add_argument(
        "--baseline-s", type=float, default=8.0, help="seconds of the victims alone (baseline)"
    )
    ap.add_argument("--noisy-s", type=float, default=10.0, help="seconds of the noisy neighbour")
    ap.add_argument(
        "--user-rate", default=BENCH_USER_RATE, help="THROTTLE_RATE_USER for the server"
    )
    args = ap.parse_args()
    args.burst = max(1, min(args.burst, 20_000))
    args.concurrency = max(1, min(args.concurrency, 200))
    args.phase_s = max(2.0, min(args.phase_s, 60.0))
    args.baseline_s = max(2.0, min(args.baseline_s, 120.0))
    args.noisy_s = max(1.0, min(args.noisy_s, 60.0))
    args.rounds = max(1, min(args.rounds, 10))

    sigterm_as_interrupt()
    os.environ.setdefault("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend")
    setup_django()
    prepare_database()
    as_owner()  # seeding; the server and the workers are the application role
    from django.conf import settings

    user_rate = args.user_rate or settings.REST_FRAMEWORK["DEFAULT_THROTTLE_RATES"]["principal"]
    args.user_rate = user_rate
    assert parse_rate(user_rate) > VICTIM_RATE_PER_S, "the victims must stay within the rate"
    noisy_rate = 10 * parse_rate(user_rate)
    log(f"seeding {args.victims} victim tenants and a noisy one")
    victims = [
        build_tenant(f"bench-burst-victim-{n}", f"victim{n}@burst.bench")
        for n in range(1, args.victims + 1)
    ]
    noisy = build_tenant("bench-burst-noisy", "noisy@burst.bench")

    # The environment may override the server's shape (WEB_CONCURRENCY=4 WEB_THREADS=2 ...).
    env = {
        **{k: os.environ.get(k, v) for k, v in SERVER_ENV.items()},
        "THROTTLE_RATE_USER": user_rate,
    }
    with Services(web=True, worker=True, env=env) as services:
        host, port_text = services.addr.rsplit(":", 1)
        port = int(port_text)
        for victim in victims:  # warm up every worker thread's code paths and the pool
            client = Client(host, port, {"Authorization": f"Bearer {victim.token}"})
            for _ in range(4):
                client.get(f"/api/v1/tenants/{victim.slug}/mentions/")
            client.close()
        time.sleep(1.5)  # past the warm-up's rate window
        victim_process = VictimProcess(host, port, victims)
        try:
            results = phases(args, services, host, port, victim_process, noisy, noisy_rate)
        finally:
            victim_process.close()
        base_figures, burst_result, noisy_result = results
        after = healthy_after(host, port, victims)
        log(f"after: {json.dumps(after)}")

    victim_errors = (
        burst_result["victims_during"]["5xx_or_no_answer"]
        + noisy_result["victims_during"]["5xx_or_no_answer"]
        + base_figures["5xx_or_no_answer"]
    )
    result = {
        "benchmark": "burst",
        "server": {k: v for k, v in env.items() if k != "LOG_LEVEL"},
        "victims": args.victims,
        "victim_rate_per_s": VICTIM_RATE_PER_S,
        "baseline": base_figures,
        "burst": burst_result,
        "noisy": noisy_result,
        "victim_5xx_total": victim_errors,
        "healthy_after": after,
        "target_ratio": TARGET_RATIO,
        **load_note(),
    }
    print(json.dumps(result))
    return 0 if victim_errors == 0 and after["ok"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
