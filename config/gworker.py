"""The gunicorn worker ``config/gunicorn.py`` runs: gunicorn's gthread worker, with closing
connections drained by its event loop instead of blocking it, and new connections admitted at a
bounded rate.

gunicorn 27's gthread worker closes a connection that is not kept alive "gracefully" (RFC 9112
section 9.6): it half-closes the socket, then reads until the client closes its side, for up to
two seconds, so that unread request bytes cannot turn the close into a reset that truncates the
answer. It does that read on the worker's main thread, the one thread that accepts connections
and hands every kept-alive connection's next request to the thread pool. One client that does
not close promptly (a flood client busy with its fifty other connections, a slow network, or one
that never closes at all) therefore stops the whole process for up to two seconds per
connection: five such connections delayed a signed-in client's request on a kept-alive
connection by six seconds, and a burst of 1,000 anonymous probes kept each process's main
thread blocked for about 40% of the burst.

``ThreadWorker`` keeps the graceful close and moves its wait into the event loop: the socket is
half-closed at once and registered with the worker's poller, each readable event reads what
arrived without blocking, and the socket is closed when the client closes its side, when more
than ``MAX_DRAIN_BYTES`` arrived, or after ``LINGER_S``, whichever comes first (gunicorn's own
limits). At most ``worker_connections`` sockets linger per process; past that a socket is closed
at once, as gunicorn 23 did.

A worker process also admits at most ``WEB_ACCEPT_RATE`` new connections a second (default 200,
after an allowance of ``ACCEPT_BURST``; ``0`` turns the limit off): a token bucket in front of
``accept``; when it is empty the worker stops accepting until the next token is due, and the
connections wait in the kernel's listen backlog (``backlog``, 2,048), costing nothing. Requests
on connections already open (kept alive, as browsers, API clients and a proxy's upstream pool
keep them) are not affected. Each real request costs 10-20 ms of CPU, so a worker serves far
fewer than 200 new connections a second of real work; the limit binds only a flood of cheap
requests (probes, refusals, 404s on new connections), which would otherwise take every core from
the requests already being served: a flood of 1,000 anonymous probes on new connections then
takes 2.5 s instead of 0.7 s, and signed-in users on two cores keep their median latency
(``benchmarks/burst.py``). Everything else is gunicorn's ``ThreadWorker``.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import time
from concurrent.futures import Future
from functools import partial
from typing import Any

from gunicorn import util
from gunicorn.workers import gthread

# gunicorn's close_graceful limits.
LINGER_S = 2.0
MAX_DRAIN_BYTES = 65536
# New connections admitted per second and worker process (WEB_ACCEPT_RATE), and how many may
# come at once after a quiet spell.
DEFAULT_ACCEPT_RATE = 200.0
ACCEPT_BURST = 20


def accept_rate() -> float:
    """``WEB_ACCEPT_RATE``: new connections a worker process admits per second (0: no limit)."""
    value = os.environ.get("WEB_ACCEPT_RATE")
    return max(0.0, float(value)) if value else DEFAULT_ACCEPT_RATE


class ThreadWorker(gthread.ThreadWorker):  # type: ignore[misc]  # gunicorn has no types
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # socket -> [deadline, bytes drained]; insertion order is deadline order.
        self.lingering: dict[socket.socket, list[float]] = {}
        self.accept_rate = accept_rate()
        self.tokens = float(ACCEPT_BURST)
        self.refilled = time.monotonic()
        self.paused_until = 0.0

    # --- admission of new connections ----------------------------------------------------------

    def accept(self, listener: Any) -> None:
        """Takes one new connection from the listen backlog if the worker's token bucket has a
        token; otherwise stops accepting until the next token is due."""
        if self.accept_rate:
            now = time.monotonic()
            elapsed = now - self.refilled
            self.tokens = min(float(ACCEPT_BURST), self.tokens + elapsed * self.accept_rate)
            self.refilled = now
            if self.tokens < 1:
                self.paused_until = now + (1 - self.tokens) / self.accept_rate
                self.set_accept_enabled(False)
                return
            self.tokens -= 1
        super().accept(listener)

    def set_accept_enabled(self, enabled: bool) -> None:
        """gunicorn re-enables accepting on every turn of its loop: not while paused."""
        if enabled and self.paused_until > time.monotonic():
            enabled = False
        super().set_accept_enabled(enabled)

    def wait_for_and_dispatch_events(self, timeout: float) -> None:
        """The loop's wait ends when the pause does, so accepting resumes on time."""
        if self.paused_until:
            left = self.paused_until - time.monotonic()
            if left <= 0:
                self.paused_until = 0.0
                self.set_accept_enabled(self.nr_conns < self.worker_connections)
            else:
                timeout = min(timeout, left)
        super().wait_for_and_dispatch_events(timeout)

    # --- closing without blocking the loop -----------------------------------------------------

    def finish_request(self, conn: Any, fs: Future[Any]) -> None:
        """A request is done (main thread): a connection to close lingers in the poller; any
        other outcome (kept alive, deferred, failed) is gunicorn's."""
        if fs.cancelled() or fs.exception() is not None or fs.result() is not False:
            super().finish_request(conn, fs)
            return
        self.nr_conns -= 1
        self.linger(conn.sock)

    def linger(self, sock: socket.socket) -> None:
        try:
            sock.shutdown(socket.SHUT_WR)
            sock.setblocking(False)
            if len(self.lingering) >= self.worker_connections:
                raise OSError("too many lingering connections")
            self.poller.register(sock, selectors.EVENT_READ, partial(self.drain, sock))
        except (OSError, ValueError, KeyError):
            util.close(sock)
            return
        self.lingering[sock] = [time.monotonic() + LINGER_S, 0.0]

    def drain(self, sock: socket.socket, _fileobj: Any = None) -> None:
        """The lingering socket is readable: discard what came; close at its end."""
        state = self.lingering.get(sock)
        if state is None:
            return
        try:
            data = sock.recv(4096)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        state[1] += len(data)
        if not data or state[1] > MAX_DRAIN_BYTES:
            self.close_lingering(sock)

    def close_lingering(self, sock: socket.socket) -> None:
        self.lingering.pop(sock, None)
        with contextlib.suppress(KeyError, ValueError, OSError):
            self.poller.unregister(sock)
        util.close(sock)

    def murder_pending(self) -> None:
        """Runs on every turn of the event loop: also closes sockets that lingered too long."""
        super().murder_pending()
        now = time.monotonic()
        while self.lingering:
            sock, (deadline, _) = next(iter(self.lingering.items()))
            if deadline > now:
                break
            self.close_lingering(sock)

    def murder_keepalived(self, force: bool = False) -> None:
        """``force`` (the worker is stopping): the lingering sockets are closed too."""
        super().murder_keepalived(force)
        if force:
            for sock in list(self.lingering):
                self.close_lingering(sock)
