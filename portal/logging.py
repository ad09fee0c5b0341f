"""Log lines as JSON, each carrying the id of the request that produced it.

`portal.middleware.RequestMiddleware` binds the request being served (its id and its META) to context
variables for the length of the request; `RequestIdFilter` copies the id onto every record its handler sees,
and `JsonFormatter` writes one JSON object per line. Outside a request (Celery, management commands) the id
is "-". The audit trail reads the same context for events recorded below the view (a ledger posting).
"""

import json
import logging
from contextvars import ContextVar
from datetime import UTC, datetime

_request_id: ContextVar[str | None] = ContextVar("request_id", default=None)
_request_meta: ContextVar[dict | None] = ContextVar("request_meta", default=None)


def current_request_id() -> str | None:
    """The id of the request being handled in this thread or task, or None outside a request."""
    return _request_id.get()


def current_request_meta() -> dict:
    """The META (WSGI environ) of the request being handled, or {} outside a request."""
    return _request_meta.get() or {}


def bind_request(request_id: str | None, meta: dict | None) -> None:
    _request_id.set(request_id)
    _request_meta.set(meta)


class RequestIdFilter(logging.Filter):
    """Adds `request_id` to every record (attach it to handlers: a logger's filter misses propagated
    records)."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.request_id = _request_id.get() or "-"
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time (UTC), level, logger, message, request_id, and the traceback if any."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "request_id": getattr(record, "request_id", None) or _request_id.get() or "-",
        }
        if record.exc_info:
            line["exc_info"] = self.formatException(record.exc_info)
        if record.stack_info:
            line["stack_info"] = self.formatStack(record.stack_info)
        return json.dumps(line, ensure_ascii=False, default=str)
