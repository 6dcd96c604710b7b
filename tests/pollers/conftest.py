"""A local HTTP server for poller tests.

``fixture_server`` starts a threaded ``http.server`` on 127.0.0.1, port 0, and
serves the recorded payloads in ``tests/fixtures/pollers``; the outbound client
(``tenants.outbound``) is told to allow exactly that server's ``host:port`` and
nothing else internal. ``local_server`` gives one that is not allowlisted. It honours
``If-None-Match`` and ``If-Modified-Since`` with 304, can be told to fail
(any status, with headers, for the next N requests), to answer slowly or to
trickle its body, and emulates Mastodon's tag timeline (``since_id``,
``max_id``, ``min_id``, ``limit``) and status search (bearer token required).
Every request is recorded. Nothing leaves the machine.
"""

from __future__ import annotations

import contextlib
import gzip
import json
import threading
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

FIXTURES = Path(__file__).resolve().parent.parent / "fixtures" / "pollers"

SEARCH_TOKEN = "test-token"  # a fake token for the fake server

Responder = Callable[["RecordedRequest"], tuple[int, dict[str, str], bytes]]


@dataclass
class RecordedRequest:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Route:
    body: bytes = b""
    content_type: str = "application/octet-stream"
    etag: str | None = None
    last_modified: str | None = None
    gzip: bool = False
    responder: Responder | None = None


@dataclass
class Failure:
    status: int
    headers: dict[str, str]
    body: bytes
    remaining: int | None  # None: for ever


@dataclass
class Slowness:
    delay: float = 0.0  # before the status line
    trickle: float = 0.0  # between body chunks of 16 bytes


@dataclass
class LocalServer:
    base_url: str
    stop: threading.Event
    routes: dict[str, Route] = field(default_factory=dict)
    failures: dict[str, Failure] = field(default_factory=dict)
    slowness: dict[str, Slowness] = field(default_factory=dict)
    requests: list[RecordedRequest] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return self.base_url + path

    def serve_file(
        self,
        path: str,
        fixture: str,
        content_type: str,
        *,
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
    ) -> str:
        self.routes[path] = Route(
            (FIXTURES / fixture).read_bytes(), content_type, etag, last_modified, gzip
        )
        return self.url(path)

    def serve_responder(self, path: str, responder: Responder) -> str:
        self.routes[path] = Route(responder=responder)
        return self.url(path)

    def fail(
        self,
        path: str,
        status: int,
        *,
        headers: dict[str, str] | None = None,
        body: bytes = b"",
        times: int | None = None,
    ) -> None:
        self.failures[path] = Failure(status, headers or {}, body, times)

    def slow(self, path: str, *, delay: float = 0.0, trickle: float = 0.0) -> None:
        self.slowness[path] = Slowness(delay, trickle)

    def hits(self, path: str) -> list[RecordedRequest]:
        with self.lock:
            return [r for r in self.requests if r.path == path]

    # --- Mastodon emulation ------------------------------------------------------------

    def serve_mastodon_tag(self, tag: str, fixture: str = "mastodon_tag_banjir.json") -> str:
        statuses: list[dict[str, Any]] = json.loads((FIXTURES / fixture).read_text("utf-8"))
        self.serve_responder(f"/api/v1/timelines/tag/{tag}", _timeline_responder(statuses))
        return self.base_url

    def serve_mastodon_search(
        self, fixture: str = "mastodon_search_banjir.json", *, token: str = SEARCH_TOKEN
    ) -> str:
        payload: dict[str, Any] = json.loads((FIXTURES / fixture).read_text("utf-8"))

        def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
            if req.headers.get("authorization") != f"Bearer {token}":
                return _json(401, {"error": "The access token is invalid"})
            found = payload["statuses"]
            if "min_id" in req.query:
                found = [s for s in found if _key(s["id"]) > _key(req.query["min_id"])]
            return _json(200, {**payload, "statuses": found})

        self.serve_responder("/api/v2/search", respond)
        return self.base_url


def _key(status_id: str) -> tuple[int, str]:
    return (len(status_id), status_id)


def _json(status: int, data: Any) -> tuple[int, dict[str, str], bytes]:
    return status, {"Content-Type": "application/json; charset=utf-8"}, json.dumps(data).encode()


def _timeline_responder(statuses: list[dict[str, Any]]) -> Responder:
    """Mastodon's paging: newest first, ``since_id``/``max_id`` exclusive bounds,
    ``min_id`` = the statuses right after it, ``limit`` capped at 40."""
    ordered = sorted(statuses, key=lambda s: _key(s["id"]), reverse=True)

    def respond(req: RecordedRequest) -> tuple[int, dict[str, str], bytes]:
        limit = min(int(req.query.get("limit", "20")), 40)
        page = ordered
        if "max_id" in req.query:
            page = [s for s in page if _key(s["id"]) < _key(req.query["max_id"])]
        if "since_id" in req.query:
            page = [s for s in page if _key(s["id"]) > _key(req.query["since_id"])]
        if "min_id" in req.query:
            page = [s for s in page if _key(s["id"]) > _key(req.query["min_id"])][-limit:]
        page = page[:limit]
        status, headers, body = _json(200, page)
        if page:
            headers["Link"] = (
                f'<{req.path}?max_id={page[-1]["id"]}>; rel="next", '
                f'<{req.path}?min_id={page[0]["id"]}>; rel="prev"'
            )
        return status, headers, body

    return respond


def _make_handler(server: LocalServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:
            pass

        def _send(self, status: int, headers: dict[str, str], body: bytes, trickle: float) -> None:
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if not trickle:
                self.wfile.write(body)
                return
            for start in range(0, len(body), 16):
                if server.stop.wait(trickle):
                    return
                self.wfile.write(body[start : start + 16])
                self.wfile.flush()

        def do_GET(self) -> None:
            # the client may give up first (timeout tests)
            with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                self._handle()

        def _handle(self) -> None:
            parts = urllib.parse.urlsplit(self.path)
            req = RecordedRequest(
                "GET",
                parts.path,
                dict(urllib.parse.parse_qsl(parts.query)),
                {k.lower(): v for k, v in self.headers.items()},
            )
            with server.lock:
                server.requests.append(req)
                failure = server.failures.get(req.path)
                if failure is not None and failure.remaining is not None:
                    failure.remaining -= 1
                    if failure.remaining < 0:
                        del server.failures[req.path]
                        failure = None
            slowness = server.slowness.get(req.path, Slowness())
            if slowness.delay and server.stop.wait(slowness.delay):
                return
            if failure is not None:
                self._send(failure.status, failure.headers, failure.body, 0)
                return
            route = server.routes.get(req.path)
            if route is None:
                self._send(404, {"Content-Type": "text/plain"}, b"not found", 0)
                return
            if route.responder is not None:
                status, headers, body = route.responder(req)
                self._send(status, headers, body, slowness.trickle)
                return
            validators: dict[str, str] = {}
            if route.etag:
                validators["ETag"] = route.etag
            if route.last_modified:
                validators["Last-Modified"] = route.last_modified
            if _not_modified(req.headers, route):
                self._send(304, validators, b"", 0)
                return
            headers = {"Content-Type": route.content_type, **validators}
            body = route.body
            if route.gzip and "gzip" in req.headers.get("accept-encoding", ""):
                body = gzip.compress(body)
                headers["Content-Encoding"] = "gzip"
            self._send(200, headers, body, slowness.trickle)

    return Handler


def _not_modified(headers: dict[str, str], route: Route) -> bool:
    if "if-none-match" in headers and route.etag:
        tags = {t.strip() for t in headers["if-none-match"].split(",")}
        return route.etag in tags or "*" in tags
    since = headers.get("if-modified-since")
    if since and route.last_modified:
        try:
            return parsedate_to_datetime(route.last_modified) <= parsedate_to_datetime(since)
        except (TypeError, ValueError):
            return False
    return False


@contextlib.contextmanager
def local_server() -> Iterator[LocalServer]:
    """A fixture server that is *not* allowlisted: the outbound client refuses it."""
    server = LocalServer(base_url="", stop=threading.Event())
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(server))
    httpd.daemon_threads = True
    server.base_url = f"http://127.0.0.1:{httpd.server_port}"
    thread = threading.Thread(target=httpd.serve_forever, kwargs={"poll_interval": 0.05})
    thread.daemon = True
    thread.start()
    try:
        yield server
    finally:
        server.stop.set()
        httpd.shutdown()
        httpd.server_close()
        thread.join(timeout=5)


@pytest.fixture
def fixture_server(settings: Any) -> Iterator[LocalServer]:
    """The local server, allowlisted for the outbound client by its exact host:port only."""
    with local_server() as server:
        settings.SIGAP_OUTBOUND_ALLOWLIST = [server.base_url.removeprefix("http://")]
        settings.SIGAP_OUTBOUND_PORTS = []
        yield server


@pytest.fixture(autouse=True)
def english_poll_errors() -> Iterator[None]:
    """The pollers' errors are asserted in English here; in a poll they follow the tenant's
    language (tests/monitoring/test_polling.py), their Indonesian is in the catalogue."""
    from django.utils import translation

    with translation.override("en"):
        yield
