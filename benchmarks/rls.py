"""What row-level security costs: the mention list and ingest throughput with and without it.

    python benchmarks/rls.py [--runs 3] [--api-n 1000000] [--requests 50] [--ingest-n 20000]

Both sides run alternately (off then on, then on then off, ...), ``--runs`` times each, so a
busy spell of a shared machine hits both alike:

* **on** (the default): the application role, every tenant table's policy, the scope set with
  ``SET LOCAL`` per transaction (``tenants.dbscope``);
* **off**: what ``SIGAP_RLS=off`` runs: the tables' owner (``postgres`` on the embedded server,
  ``DATABASE_OWNER_URL`` otherwise), whom no policy binds, and no scope set.

The read API: the mention list and metrics endpoints of ``benchmarks/api.py``'s tenant
(``--api-n`` mentions, built once by the owner and reused), timed in this process through
Django's test client like ``benchmarks/api.py`` does: ``--requests`` requests per endpoint and
side in each run, the sides alternating request by request, each served by a thread with its
own connection (the off side's is the owner's, ``tenants.rls.owner_connection``).
Ingest: ``benchmarks/ingest.py --n INGEST_N`` (HTTP endpoint, django-q2 cluster, pipeline, scored
rows) in child processes, with ``SIGAP_RLS=off`` for the off side (every process then connects
as the owner).

Prints both sides of every run as it goes (stderr), then per figure each side's values, their
medians and the ratio of the medians (on / off: above 1 for a latency, below 1 for a throughput
means RLS costs). The last line of stdout is one JSON object; ``slowdown`` is the cost as a
fraction (0.05: 5 % slower), ``within_target`` compares it with 10 %.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import statistics
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import (
    load_note,
    log,
    percentile,
    prepare_database,
    setup_django,
    sigterm_as_interrupt,
)

ROOT = Path(__file__).resolve().parents[1]
TARGET_SLOWDOWN = 0.10
MENTION_LIST = "mentions: first page"


def child(script: str, args: list[str], rls: bool) -> dict[str, Any]:
    """Run one benchmark with row-level security on or off; its JSON figures."""
    env = {k: v for k, v in os.environ.items() if k != "SIGAP_RLS"}
    if not rls:
        env["SIGAP_RLS"] = "off"
        if env.get("DATABASE_OWNER_URL"):
            env["DATABASE_URL"] = env["DATABASE_OWNER_URL"]
    done = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / script), *args],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        text=True,
        timeout=3600,
        check=False,
    )
    lines = done.stdout.strip().splitlines()
    if done.returncode != 0 or not lines:
        raise RuntimeError(f"{script} {' '.join(args)} failed ({done.returncode})")
    return dict(json.loads(lines[-1]))


def side(values: dict[str, list[float]]) -> dict[str, Any]:
    off, on = statistics.median(values["off"]), statistics.median(values["on"])
    return {
        "off": values["off"],
        "on": values["on"],
        "median_off": round(off, 2),
        "median_on": round(on, 2),
        "ratio": round(on / off, 3) if off else None,
    }


class Sides:
    """One serving thread per side, each with its own persistent database connection: the off
    thread's is the owner's (``tenants.rls.owner_connection``, as ``SIGAP_RLS=off`` connects),
    the on thread's the application role's. Requests alternate between them one by one, so both
    sides see the same moments of a shared machine."""

    def __init__(self) -> None:
        self.on = ThreadPoolExecutor(max_workers=1)
        self.off = ThreadPoolExecutor(max_workers=1, initializer=self._as_owner)
        self._held = contextlib.ExitStack()

    def _as_owner(self) -> None:
        from tenants.rls import owner_connection

        self._held.enter_context(owner_connection("rls benchmark: the off side"))

    def get(self, rls: bool, client: Any, path: str) -> float:
        """Milliseconds of one request on one side."""

        def timed() -> float:
            t0 = time.perf_counter()
            response = client.get(path, HTTP_ACCEPT="application/json")
            elapsed = (time.perf_counter() - t0) * 1000
            if response.status_code != 200:
                raise RuntimeError(f"{path} answered {response.status_code}")
            return elapsed

        return (self.on if rls else self.off).submit(timed).result()

    def close(self) -> None:
        self.on.shutdown()
        self.off.submit(self._held.close).result()
        self.off.shutdown()


def time_api(
    sides: Sides, client: Any, paths: list[tuple[str, str]], count: int, first: bool
) -> dict[str, dict[str, dict[str, float]]]:
    """Per endpoint and side, p50 and p95 (ms) of ``count`` requests, the sides alternating
    request by request (``first`` goes first), after two untimed requests each."""
    results: dict[str, dict[str, dict[str, float]]] = {}
    for label, path in paths:
        times: dict[bool, list[float]] = {False: [], True: []}
        for i in range(count + 2):
            for rls in (first, not first) if i % 2 == 0 else (not first, first):
                elapsed = sides.get(rls, client, path)
                if i >= 2:
                    times[rls].append(elapsed)
        results[label] = {
            "on" if rls else "off": {
                "p50_ms": round(percentile(times[rls], 0.5), 2),
                "p95_ms": round(percentile(times[rls], 0.95), 2),
            }
            for rls in (False, True)
        }
    return results


def api_client(api_n: int) -> tuple[Any, list[tuple[str, str]]]:
    """The analyst's test client and the endpoints of ``benchmarks/api.py``'s tenant."""
    from datetime import UTC, datetime, timedelta
    from urllib.parse import quote, urlsplit

    from django.test import Client

    from benchmarks.api import _tenant, build, deep_cursor, endpoints
    from tenants import dbscope
    from tenants.models import Membership, User
    from tenants.rls import use_role
    from tenants.roles import Role
    from tenants.services import issue_token

    use_role("owner")
    tenant, reused = _tenant(api_n, rebuild=False)
    if not reused:
        log(f"building {tenant.slug}")
        build(tenant, api_n)
    use_role("application")
    with dbscope.all_tenants("rls benchmark: the analyst's account"):
        user = User.objects.filter(email="analyst@bench.sigap").first()
        if user is None:
            user = User.objects.create_user(
                "analyst@bench.sigap", password=None, agency=tenant.agency
            )
        Membership.objects.get_or_create(tenant=tenant, user=user, defaults={"role": Role.ANALYST})
        _, token = issue_token(user=user, name="rls benchmark")
    client = Client(HTTP_HOST="localhost", HTTP_AUTHORIZATION=f"Bearer {token}")
    found, _ = endpoints(tenant.slug)
    paths: list[tuple[str, str]] = []
    resolved: dict[str, str] = {}
    for label, path in found:  # the placeholders benchmarks/api.py resolves, resolved alike
        base, _, query = path.partition("?")
        if query.startswith("@next"):
            source = resolved.get(query.partition(":")[2] or MENTION_LIST)
            answer = client.get(source, HTTP_ACCEPT="application/json").json() if source else {}
            link = urlsplit(answer.get("next") or "")
            if not link.path:
                continue
            path = f"{link.path}?{link.query}"
        elif query.startswith("@deep:"):
            with dbscope.tenant_scope([tenant]):
                path = f"{base}?{deep_cursor(tenant, query.partition(':')[2], 50_000)}"
        elif query.startswith("@since:"):
            since = datetime.now(UTC) - timedelta(days=int(query.partition(":")[2]))
            path = f"{base}?published_after={quote(since.isoformat())}"
        resolved[label] = path
        paths.append((label, path))
    return client, paths


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per side (at least 3)")
    ap.add_argument("--api-n", type=int, default=1_000_000, help="mentions of the api tenant")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    ap.add_argument("--ingest-n", type=int, default=20_000, help="mentions per ingest run")
    args = ap.parse_args()
    args.runs = max(3, args.runs)
    os.environ.setdefault("THROTTLE_RATE_USER", "1000000/min")
    os.environ.pop("SIGAP_RLS", None)  # this process runs both sides itself
    os.environ.setdefault("LOG_LEVEL", "WARNING")  # no log line per timed request
    sigterm_as_interrupt()
    started = time.monotonic()
    setup_django()
    prepare_database()
    client, paths = api_client(args.api_n)
    sides = Sides()
    ingest_args = ["--n", str(args.ingest_n), "--warmup", "1000"]
    api: dict[str, dict[str, dict[str, list[float]]]] = {}
    ingest: dict[str, list[float]] = {"off": [], "on": []}
    load_before = load_note()
    try:
        for run in range(args.runs):
            order = [False, True] if run % 2 == 0 else [True, False]
            timed = time_api(sides, client, paths, args.requests, first=order[0])
            for label, by_side in timed.items():
                for name, figures in by_side.items():
                    for figure, value in figures.items():
                        values = api.setdefault(label, {}).setdefault(figure, {"off": [], "on": []})
                        values[name].append(value)
            listed = timed[MENTION_LIST]
            log(
                f"run {run + 1}: mention list p50 off {listed['off']['p50_ms']} ms, on "
                f"{listed['on']['p50_ms']} ms; p95 off {listed['off']['p95_ms']} ms, on "
                f"{listed['on']['p95_ms']} ms"
            )
            for rls in order:
                name = "on" if rls else "off"
                figures = child("ingest.py", ingest_args, rls)
                if not figures.get("complete") or figures["lost"] or figures["duplicated"]:
                    raise RuntimeError(f"ingest run incomplete: {figures}")
                ingest[name].append(figures["mentions_per_s"])
                log(f"run {run + 1} RLS {name}: ingest {figures['mentions_per_s']} mentions/s")
    except KeyboardInterrupt:
        log("interrupted")
        return 130
    finally:
        sides.close()
    endpoints = {
        label: {figure: side(values) for figure, values in by_figure.items()}
        for label, by_figure in api.items()
    }
    throughput = side(ingest)
    list_ratio = endpoints[MENTION_LIST]["p50_ms"]["ratio"]
    mention_ratios = [
        figures["p50_ms"]["ratio"]
        for label, figures in endpoints.items()
        if label[:9] == "mentions:"
    ]
    slowdown = {
        "mention_list_p50": round(list_ratio - 1, 3),
        "mention_endpoints_p50_median": round(statistics.median(mention_ratios) - 1, 3),
        "ingest_throughput": round(1 / throughput["ratio"] - 1, 3),
    }
    for label, figures in endpoints.items():
        p50 = figures["p50_ms"]
        log(
            f"{label:34} p50 off {p50['median_off']:7.1f} ms  on {p50['median_on']:7.1f} ms  "
            f"x{p50['ratio']}"
        )
    log(
        f"ingest mentions/s: off {throughput['median_off']} on {throughput['median_on']} "
        f"x{throughput['ratio']}; slowdown {slowdown}"
    )
    print(
        json.dumps(
            {
                "runs_per_side": args.runs,
                "api_n": args.api_n,
                "requests": args.requests,
                "api_measured": "in this process, the sides alternating request by request",
                "ingest_n": args.ingest_n,
                "endpoints": endpoints,
                "ingest_mentions_per_s": throughput,
                "slowdown": slowdown,
                "target_slowdown": TARGET_SLOWDOWN,
                "within_target": all(v <= TARGET_SLOWDOWN for v in slowdown.values()),
                "load_before": load_before,
                "load_after": load_note(),
                "seconds": round(time.monotonic() - started),
            }
        )
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
