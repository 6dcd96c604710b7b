"""The id of the request being served, for every log record written while it runs.

Kept free of Django app imports: the logging configuration loads ``RequestIdFilter`` before the
apps are ready.
"""

from __future__ import annotations

import logging
from contextvars import ContextVar

current_request_id: ContextVar[str | None] = ContextVar("sigap_request_id", default=None)


class RequestIdFilter(logging.Filter):
    """Adds ``request_id`` to every log record written while a request is served."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            # Django logs a request's final status after the middleware is done: use its request.
            record.request_id = current_request_id.get() or getattr(
                getattr(record, "request", None), "request_id", None
            )
        return True
