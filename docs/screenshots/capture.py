"""Screenshots of the admin's main screens, taken by the system's headless Chromium.

``make screenshots`` (or ``.venv/bin/python docs/screenshots/capture.py``) checks the admin's
overview pages in a real browser and saves what it sees as PNG files next to this script:

1. starts Sigap on a fresh database of its own (a temporary embedded PostgreSQL: migrate,
   ``seed_demo`` with ``--mentions`` per tenant, then ``manage.py serve`` on a free port, its
   task clusters processing the demo's mentions), unless ``--url`` names a running Sigap that
   holds the demo (``make run``);
2. signs in to the admin as the demo's agency admin, with Selenium driving ``/usr/bin/chromium``
   through ``/usr/bin/chromedriver`` (Debian's ``chromium`` and ``chromium-driver`` packages;
   nothing is downloaded: the driver's path is given and Selenium Manager runs offline);
3. opens the index, the start page of ``kopi-senja``, the agency page and the mention list,
   finds on each what must be there (the overview links and the internals section; the chart,
   the riskiest mentions and the sources in error; the open-items section and the tenants; the
   risk badges), and saves a screenshot of each page (``admin-*.png``);
4. exits non-zero, naming what was missing, if anything was.

It is not a test of the suite (``make test`` does not collect it): the pages' behaviour is
tested in ``tests/tenants/test_admin_overview.py``; this checks that a browser shows them.
"""

from __future__ import annotations

import argparse
import base64
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
OUTPUT = Path(__file__).resolve().parent
CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"
CHROMIUM_FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-dev-shm-usage",
    "--hide-scrollbars",
    "--force-device-scale-factor=1",
)
EMAIL = "agency-admin@demo.sigap"  # tenants/demo.py
PASSWORD = "agency-admin-sigap-demo"  # noqa: S105 - the demo's printed password
TENANT = "Kopi Senja"
AGENCY = "Nusantara Digital"
WIDTH = 1440


class Missing(Exception):
    """Something a page must show is not there."""


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for(check: Callable[[], bool], *, seconds: float, what: str, every: float = 1.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(every)
    raise Missing(f"{what} (waited {seconds:.0f} s)")


def answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - our own server
            return bool(response.status == 200)
    except OSError:
        return False


@contextmanager
def demo_server(mentions: int, log: Path) -> Iterator[str]:
    """A Sigap with the demo on a fresh temporary database; yields its address."""
    scratch = Path(tempfile.mkdtemp(prefix="sigap-screenshots-"))
    port = free_port()
    env = {
        **os.environ,
        "DEBUG": "1",
        "SIGAP_PGDATA": str(scratch / "pgdata"),
        "SIGAP_ADDR": f"127.0.0.1:{port}",
        "WEB_CONCURRENCY": "1",
        "Q_LOG_LEVEL": "ERROR",
        "LOG_LEVEL": "WARNING",
    }
    env.pop("DATABASE_URL", None)
    env.pop("DATABASE_OWNER_URL", None)
    manage = [sys.executable, str(ROOT / "manage.py")]
    server: subprocess.Popen[bytes] | None = None
    with log.open("wb") as out:
        try:
            for command in (
                ["migrate", "--noinput"],
                ["createcachetable"],
                ["seed_demo", "--mentions", str(mentions)],
            ):
                step = time.monotonic()
                subprocess.run(
                    [*manage, *command], env=env, cwd=ROOT, stdout=out, stderr=out, check=True
                )
                print(f"[screenshots] {command[0]}: {time.monotonic() - step:.0f} s", flush=True)
            server = subprocess.Popen(
                [*manage, "serve"],
                env=env,
                cwd=ROOT,
                stdout=out,
                stderr=out,
                start_new_session=True,
            )
            url = f"http://127.0.0.1:{port}"
            wait_for(lambda: answers(f"{url}/readyz"), seconds=120, what="the server's /readyz")
            yield url
        finally:
            if server is not None and server.poll() is None:
                server.send_signal(signal.SIGTERM)
                try:
                    server.wait(timeout=60)
                except subprocess.TimeoutExpired:
                    os.killpg(server.pid, signal.SIGKILL)
                    server.wait()
            # The embedded PostgreSQL stops with the last process using it.
            for _ in range(30):
                if not (scratch / "pgdata" / "postmaster.pid").exists():
                    break
                time.sleep(1)
            shutil.rmtree(scratch, ignore_errors=True)


def browser(profile: Path) -> Any:
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    os.environ["SE_OFFLINE"] = "true"  # Selenium Manager never downloads a browser or driver
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (*CHROMIUM_FLAGS, f"--user-data-dir={profile}", f"--window-size={WIDTH},1000"):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(executable_path=CHROMEDRIVER), options=options)


def count(driver: Any, selector: str) -> int:
    from selenium.webdriver.common.by import By

    return len(driver.find_elements(By.CSS_SELECTOR, selector))


def require(driver: Any, selector: str, what: str, at_least: int = 1) -> None:
    found = count(driver, selector)
    if found < at_least:
        raise Missing(f"{what}: {found} of {selector!r} on {driver.current_url}, need {at_least}")


def screenshot(driver: Any, name: str, output: Path, max_height: int = 4000) -> Path:
    """The whole page as tall as its content, up to ``max_height`` pixels (Chromium's DevTools
    protocol)."""
    size = driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
    clip = {"x": 0, "y": 0, "width": size["width"], "height": min(size["height"], max_height)}
    shot = driver.execute_cdp_cmd(
        "Page.captureScreenshot",
        {"format": "png", "captureBeyondViewport": True, "clip": {**clip, "scale": 1}},
    )
    path = output / f"{name}.png"
    path.write_bytes(base64.b64decode(shot["data"]))
    return path


def capture(url: str, output: Path, wait_seconds: float) -> list[Path]:
    from selenium.webdriver.common.by import By

    saved = []
    with tempfile.TemporaryDirectory(prefix="sigap-chromium-") as profile:
        driver = browser(Path(profile))
        try:
            driver.get(f"{url}/admin/login/?next=/admin/")
            driver.find_element(By.ID, "id_username").send_keys(EMAIL)
            driver.find_element(By.ID, "id_password").send_keys(PASSWORD)
            driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
            wait_for(
                lambda: count(driver, "#sigap-overviews") > 0, seconds=20, what="the admin index"
            )
            require(driver, "#sigap-internals", "the internals section")
            require(driver, "#site-name", "the branded header")
            if "Sigap" not in driver.find_element(By.ID, "site-name").text:
                raise Missing("the header does not say Sigap")
            saved.append(screenshot(driver, "admin-index", output))

            start_page = driver.find_element(By.LINK_TEXT, TENANT).get_attribute("href")
            agency_page = driver.find_element(By.LINK_TEXT, AGENCY).get_attribute("href")

            totals: list[str] = []

            def demo_processed() -> bool:
                # The task cluster scores the demo's mentions in the background: reload until
                # the riskiest mentions are listed and the week's total stays the same.
                driver.get(start_page)
                found = driver.find_elements(By.ID, "sigap-volume-totals")
                totals.append(found[0].get_attribute("data-mentions") if found else "")
                listed = count(driver, "#sigap-risky .sigap-risky-mention") > 0
                return listed and len(totals) > 1 and totals[-1] == totals[-2] != "0"

            wait_for(demo_processed, seconds=wait_seconds, what="the demo's mentions", every=5)
            require(driver, "svg.sigap-chart", "the volume chart")
            require(driver, "svg.sigap-chart #series-mentions path", "the chart's mentions line")
            require(driver, "#sigap-negative-share", "the negative share")
            require(driver, "#sigap-sources-in-error .sigap-source-in-error", "sources in error")
            require(driver, "#sigap-open-items", "the open alerts and incidents section")
            saved.append(screenshot(driver, "admin-tenant-start-page", output))

            driver.get(agency_page)
            require(driver, "#sigap-open-items", "the agency's open alerts and incidents")
            require(driver, "#sigap-tenants .sigap-tenant", "the agency's tenants", at_least=2)
            saved.append(screenshot(driver, "admin-agency-page", output))

            driver.get(f"{url}/admin/monitoring/mention/?o=-7")
            require(driver, "#result_list .sigap-risk", "risk badges in the mention list")
            saved.append(screenshot(driver, "admin-mentions", output, max_height=1400))
        finally:
            driver.quit()
    return saved


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", help="a running Sigap with the demo (default: start one)")
    parser.add_argument("--mentions", type=int, default=600, help="demo mentions per tenant")
    parser.add_argument("--output", type=Path, default=OUTPUT, help="where the PNGs go")
    parser.add_argument(
        "--wait", type=float, default=240, help="seconds to wait for the demo to be processed"
    )
    args = parser.parse_args()
    for program in (CHROMIUM, CHROMEDRIVER):
        if not Path(program).exists():
            print(f"[screenshots] {program} is missing: apt-get install chromium chromium-driver")
            return 2
    args.output.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    log = Path(tempfile.gettempdir()) / "sigap-screenshots-server.log"
    try:
        if args.url:
            saved = capture(args.url.rstrip("/"), args.output, args.wait)
        else:
            with demo_server(args.mentions, log) as url:
                saved = capture(url, args.output, args.wait)
    except (Missing, subprocess.CalledProcessError) as exc:
        print(f"[screenshots] FAILED: {exc}")
        if log.exists():
            print(f"[screenshots] the server's log ({log}), last lines:")
            print("\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        return 1
    for path in saved:
        shown = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        print(f"[screenshots] saved {shown}")
    print(f"[screenshots] {len(saved)} pages checked in {time.monotonic() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
