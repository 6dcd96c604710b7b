"""The id of the request being served, for every log record written while it runs, and the
one log line per request, and the secrets no log line may hold.

Kept free of Django app imports: the logging configuration loads these filters before the apps
are ready.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("sigap_request_id", default=None)

request_logger = logging.getLogger("sigap.request")

REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,100}")


def request_id_for(given: str) -> str:
    """The caller's ``X-Request-Id`` when it is well formed, else a new id."""
    return given if REQUEST_ID.fullmatch(given) else uuid.uuid4().hex


def request_log_enabled() -> bool:
    return request_logger.isEnabledFor(logging.INFO)


def log_request(
    *,
    request_id: str,
    method: str | None,
    path: str,
    status: int,
    started: float,
    user_id: object,
    tenant: str | None,
    client_ip: str | None,
) -> None:
    """The request's one JSON log line; ``started`` is its ``time.perf_counter()``. Never
    headers, bodies or query strings (secrets)."""
    request_logger.info(
        "request",
        extra={
            "request_id": request_id,
            "method": method,
            "path": path,
            "status": status,
            "duration_ms": round((time.perf_counter() - started) * 1000, 2),
            "user_id": user_id,
            "tenant": tenant,
            "client_ip": client_ip,
        },
    )


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a request's final status after the middleware is done: use its request.
            record.request_id = current_request_id.get() or getattr(
                getattr(record, "request", None), "request_id", None
            )
        return True


# Paths that carry a secret: the invitation link's token (tenants.invitations) and a
# notification's action link (tenants.action_links). Whatever logs such a path (the request log,
# Django's CSRF and error loggers, an exception message) writes the secret part as "[redacted]".
SECRET_PATHS = (
    re.compile(r"(/invitations/[0-9]+/)[^/?#\s\"']+"),
    re.compile(r"(/act/[0-9]+/)[^/?#\s\"']+"),
)
REDACTED = "[redacted]"


def redact(text: str) -> str:
    if "/invitations/" not in text and "/act/" not in text:  # the cheap test first
        return text
    for pattern in SECRET_PATHS:
        text = pattern.sub(r"\g<1>" + REDACTED, text)
    return text


class RedactSecretsFilter(logging.Filter):
    """Removes the secrets of ``SECRET_PATHS`` from a record's message, its arguments and its
    extra fields (the request log's ``path``) before any handler writes it."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a malformed record: logging reports it itself
            return True
        if redact(message) != message:
            record.msg, record.args = redact(message), None
        for name, value in list(vars(record).items()):
            if name in {"msg", "message", "args"} or value is None:
                continue
            if isinstance(value, str):
                setattr(record, name, redact(value))
            elif not isinstance(value, int | float | bool | tuple):
                # An object a formatter would write as text (Django's ``request`` extra).
                text = str(value)
                if redact(text) != text:
                    setattr(record, name, redact(text))
        return True
