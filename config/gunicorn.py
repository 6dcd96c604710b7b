"""gunicorn settings: the one way Sigap serves HTTP, for ``make run`` and in production.

``gunicorn -c config/gunicorn.py`` (what ``manage.py serve`` and ``make serve-prod`` run) starts
``WEB_CONCURRENCY`` worker processes with ``WEB_THREADS`` threads each (gthread: a slow client
holds a thread, not a process). Every worker process keeps a bounded database pool
(``SIGAP_DB_POOL=1``, sized by ``DB_POOL_MIN``/``DB_POOL_MAX``, see ``config/settings.py``), so the
server never holds more than ``WEB_CONCURRENCY * DB_POOL_MAX`` PostgreSQL connections and a burst
waits in the listen backlog and the pool instead of opening more. The application writes its
own JSON request log, so gunicorn's access log is off. Values come from the environment, like
every Sigap setting; a setting given on gunicorn's command line wins over this file.
"""

from __future__ import annotations

import os
from typing import Any


def _int(name: str, default: int) -> int:
    value = os.environ.get(name)
    return int(value) if value else default


# The web workers use the pool; the task workers (qcluster) do not (they fork).
os.environ.setdefault("SIGAP_DB_POOL", "1")
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

wsgi_app = "config.wsgi:application"
bind = [os.environ.get("SIGAP_ADDR", "127.0.0.1:8000")]
workers = _int("WEB_CONCURRENCY", 2)
worker_class = "config.gworker.ThreadWorker"
threads = _int("WEB_THREADS", 4)
# A request still running after this many seconds has its worker restarted (logged).
timeout = _int("WEB_TIMEOUT", 30)
graceful_timeout = 20
keepalive = 5
backlog = 2048
# Recycle workers now and then (staggered) so a slow leak in Django's request handling cannot
# grow for ever. Requests answered before Django (config/edge.py: probes, remembered refusals)
# are not counted (see post_request): they allocate nothing that lasts, and counted, a flood of
# them recycled every worker within seconds, each new worker booting Django on the cores the
# signed-in users were waiting for.
max_requests = 5000
max_requests_jitter = 500
# X-Forwarded-Proto (https behind a TLS proxy) is believed from the same proxies as the client IP.
forwarded_allow_ips = os.environ.get("SIGAP_TRUSTED_PROXIES") or "127.0.0.1,::1"
accesslog = None
# gunicorn's own messages (worker restarts, timeouts) are JSON lines on stderr like the
# application's (config/settings.py LOGGING): the log stream holds nothing else.
errorlog = None
loglevel = os.environ.get("WEB_LOG_LEVEL", "warning")
logconfig_dict = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "json": {
            "()": "pythonjsonlogger.json.JsonFormatter",
            "fmt": "%(asctime)s %(levelname)s %(name)s %(message)s",
        }
    },
    "handlers": {
        "json_console": {
            "class": "logging.StreamHandler",
            "formatter": "json",
            "stream": "ext://sys.stderr",
        }
    },
    "root": {"level": "WARNING", "handlers": ["json_console"]},
    "loggers": {
        "gunicorn.error": {
            "level": loglevel.upper(),
            "handlers": ["json_console"],
            "propagate": False,
        },
        "gunicorn.access": {"level": "WARNING", "handlers": [], "propagate": False},
    },
}
proc_name = "sigap-web"
# gunicorn 24+ opens a control socket in the user's home by default; several servers on one
# machine (tests, benchmarks) would share it. Sigap does not use it.
control_socket_disable = True


def post_request(worker: Any, req: Any, environ: dict[str, Any], resp: Any) -> None:
    """Takes back gunicorn's count of a request ``config.edge`` answered (``max_requests``)."""
    if environ.get("sigap.answered_early"):
        worker.nr -= 1


def post_fork(server: Any, worker: Any) -> None:
    """Each worker learns how many there are (``-w`` on the command line included): its share
    of the probe rate limit follows (``tenants.throttling.web_processes``)."""
    os.environ["WEB_CONCURRENCY"] = str(server.cfg.workers)
