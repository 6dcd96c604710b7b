"""What row-level security costs: the mention list and ingest throughput with and without it.

    python benchmarks/rls.py [--runs 3] [--api-n 1000000] [--requests 50] [--ingest-n 20000]

Runs ``benchmarks/api.py`` (the mention list and metrics endpoints of a 1,000,000-mention tenant,
built once by the tables' owner and reused) and ``benchmarks/ingest.py`` (``--ingest-n``
mentions end to end: the HTTP ingest endpoint, a django-q2 cluster, the pipeline, scored rows)
as child processes, ``--runs`` times with row-level security on and as many times off,
interleaved (off then on, then on then off, ...) so that a busy spell of a shared machine hits
both sides alike:

* **on** (the default): every process connects as the application role, every tenant table's
  policy applies, and each transaction sets its scope with ``SET LOCAL`` (``tenants.dbscope``);
* **off** (``SIGAP_RLS=off``): every process connects as the tables' owner (``postgres`` on the
  embedded server, ``DATABASE_OWNER_URL`` otherwise), whom no policy binds, and no scope is set:
  the application's own filters only.

Prints both sides of every run as it goes (stderr), then per figure each side's values, their
medians and the ratio of the medians (on / off: above 1 for a latency, below 1 for a throughput
means RLS costs). The last line of stdout is one JSON object; ``slowdown`` is the cost as a
fraction (0.05: 5 % slower), ``within_target`` compares it with 10 %.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._harness import load_note, log, sigterm_as_interrupt

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


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--runs", type=int, default=3, help="runs per side (at least 3)")
    ap.add_argument("--api-n", type=int, default=1_000_000, help="mentions of the api tenant")
    ap.add_argument("--requests", type=int, default=50, help="timed requests per endpoint")
    ap.add_argument("--ingest-n", type=int, default=20_000, help="mentions per ingest run")
    args = ap.parse_args()
    args.runs = max(3, args.runs)
    sigterm_as_interrupt()
    started = time.monotonic()
    api_args = ["--n", str(args.api_n), "--requests", str(args.requests)]
    ingest_args = ["--n", str(args.ingest_n), "--warmup", "1000"]
    log("building (or finding) the api tenant; not measured")
    child("api.py", ["--n", str(args.api_n), "--requests", "3"], rls=False)

    api: dict[str, dict[str, dict[str, list[float]]]] = {}
    ingest: dict[str, list[float]] = {"off": [], "on": []}
    load_before = load_note()
    try:
        for run in range(args.runs):
            order = [False, True] if run % 2 == 0 else [True, False]
            for rls in order:
                name = "on" if rls else "off"
                figures = child("api.py", api_args, rls)
                for label, endpoint in figures["endpoints"].items():
                    for figure in ("p50_ms", "p95_ms"):
                        values = api.setdefault(label, {}).setdefault(figure, {"off": [], "on": []})
                        values[name].append(endpoint[figure])
                listed = figures["endpoints"][MENTION_LIST]
                log(
                    f"run {run + 1} RLS {name}: mention list p50 {listed['p50_ms']} ms, "
                    f"p95 {listed['p95_ms']} ms"
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
