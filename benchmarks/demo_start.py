"""How long ``make run`` takes until ``/readyz`` answers 200, on an existing ``.venv/``.

    python benchmarks/demo_start.py [--pgdata DIR] [--runs 2] [--limit-s 300]

Runs ``make run`` (migrate, createcachetable, ``seed_demo``, ``serve``) on a free loopback port
with the embedded PostgreSQL keeping its data in ``--pgdata`` (default: a new empty folder, so
the first run starts from an empty database and every later run finds the demo in place), asks
``GET /readyz`` every 1.5 s (within ``THROTTLE_RATE_PROBE``) until it answers 200, then stops the
run with SIGTERM (as Ctrl-C would) and waits for it to end. ``--runs`` runs one after the other
on the same data. Each run is bounded by ``--limit-s``; only 127.0.0.1 is used. At the end a
last short command joins and so stops the embedded server of that data (one a killed process
left behind). ``make run`` must find ``.venv/`` up to date, or the first run includes the
install. Progress goes to stderr; the last line of stdout is one JSON object with the seconds of
each run.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POLL_S = 1.5


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def ready(port: int) -> bool:
    try:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
        connection.request("GET", "/readyz")
        return connection.getresponse().status == 200
    except OSError:
        return False


def one_run(pgdata: Path, limit_s: float, log: Path) -> float | None:
    port = free_port()
    environment = {
        **{k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "SECRET_KEY"}},
        "SIGAP_PGDATA": str(pgdata),
        "SIGAP_ADDR": f"127.0.0.1:{port}",
        "DEBUG": "1",
    }
    started = time.monotonic()
    with log.open("ab") as output:
        run = subprocess.Popen(
            ["make", "run"],
            cwd=ROOT,
            env=environment,
            stdout=output,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        took = None
        try:
            while time.monotonic() - started < limit_s and run.poll() is None:
                if ready(port):
                    took = time.monotonic() - started
                    break
                time.sleep(POLL_S)
        finally:
            os.killpg(run.pid, signal.SIGTERM)
            try:
                run.wait(timeout=90)
            except subprocess.TimeoutExpired:
                os.killpg(run.pid, signal.SIGKILL)
                run.wait()
    return took


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pgdata", type=Path, default=None)
    parser.add_argument("--runs", type=int, default=2)
    parser.add_argument("--limit-s", type=float, default=300)
    args = parser.parse_args()
    pgdata = args.pgdata or Path(tempfile.mkdtemp(prefix="sigap-demo-start-")) / "pgdata"
    fresh = not pgdata.exists()
    log = Path(tempfile.mkdtemp(prefix="sigap-demo-start-log-")) / "make-run.log"
    seconds: list[float | None] = []
    for number in range(args.runs):
        took = one_run(pgdata, args.limit_s, log)
        label = "empty .pgdata" if fresh and number == 0 else "existing .pgdata"
        shown = "no 200 within the limit" if took is None else f"{took:.1f} s"
        print(f"run {number + 1} ({label}): /readyz 200 after {shown}", file=sys.stderr)
        seconds.append(None if took is None else round(took, 1))
    # Joining the embedded server and exiting stops it when nothing else holds it.
    subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={**os.environ, "SIGAP_PGDATA": str(pgdata), "DEBUG": "1"},
        capture_output=True,
        check=False,
        timeout=120,
    )
    print(f"make run's output: {log}", file=sys.stderr)
    print(
        json.dumps(
            {
                "pgdata": str(pgdata),
                "first_run_on_empty_pgdata": fresh,
                "seconds_to_ready": seconds,
                "within_90_s": all(s is not None and s <= 90 for s in seconds),
            }
        )
    )
    return 0 if all(s is not None for s in seconds) else 1


if __name__ == "__main__":
    sys.exit(main())
