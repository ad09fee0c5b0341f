"""Log lines as JSON (structlog), each carrying the id of the request that produced it.

`portal.middleware.RequestMiddleware` binds the id of the request being served to structlog's context
variables (`structlog.contextvars`) and its META to a context variable of our own, for the length of the
request; the Celery signals in `portal.celery` bind the id of the request that sent a task while it runs.
Outside both (beat tasks, management commands) the id is "-". The audit trail reads the same context for
events recorded below the view (a ledger posting): `current_request_id`, `current_request_meta`.

Every log record, from Django, Celery, axes or `logging.getLogger(__name__)` as from `structlog.get_logger()`,
goes through the console handler's `structlog.stdlib.ProcessorFormatter` (settings.LOGGING: FOREIGN_PRE_CHAIN,
PROCESSORS) and comes out as one JSON object per line: time (ISO 8601 UTC, milliseconds), level, logger,
message, request_id, then a structlog call's own key/values, and the traceback text (exc_info, stack_info) if
any. The META never reaches a log line: it is not a structlog context variable.
"""

import logging
import sys
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import Any

import structlog
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars, unbind_contextvars
from structlog.typing import EventDict, Processor, WrappedLogger

_request_meta: ContextVar[dict | None] = ContextVar("request_meta", default=None)

# What a snapshot of the request context holds: structlog's context variables, and the META.
RequestContext = tuple[dict[str, Any], dict | None]


def current_request_id() -> str | None:
    """The id of the request being handled in this thread or task, or None outside a request."""
    return get_contextvars().get("request_id")


def current_request_meta() -> dict:
    """The META (WSGI environ) of the request being handled, or {} outside a request."""
    return _request_meta.get() or {}


def bind_request(request_id: str | None, meta: dict | None) -> None:
    """Bind a request's id and META (None, None when its response is closed). A new request starts from a
    clean structlog context: no key bound during an earlier request on this thread reaches its lines."""
    if request_id is None:
        unbind_contextvars("request_id")
    else:
        clear_contextvars()
        bind_contextvars(request_id=request_id)
    _request_meta.set(meta)


def request_context() -> RequestContext:
    """A snapshot of the request context, for `restore_request_context` (a task run eagerly in a request)."""
    return get_contextvars(), _request_meta.get()


def restore_request_context(context: RequestContext) -> None:
    bound, meta = context
    clear_contextvars()
    bind_contextvars(**bound)
    _request_meta.set(meta)


_STDLIB_FORMATTER = logging.Formatter()


def _exception_text(exc_info: Any) -> str | None:
    """The traceback as `logging` writes it, from a record's exc_info or a structlog call's (True, an
    exception, or a sys.exc_info() tuple)."""
    if exc_info is True:
        exc_info = sys.exc_info()
    elif isinstance(exc_info, BaseException):
        exc_info = (type(exc_info), exc_info, exc_info.__traceback__)
    if not isinstance(exc_info, tuple) or exc_info[0] is None:
        return None
    return _STDLIB_FORMATTER.formatException(exc_info)


def shape_log_line(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """Lay the event out in the fields every log consumer reads, taken from the `logging` record (so that a
    line from Django and one from structlog look alike): the record's own time, not the time of formatting."""
    record: logging.LogRecord = event_dict.pop("_record")
    event_dict.pop("_from_structlog", None)
    line: EventDict = {
        "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
        "level": record.levelname,
        "logger": record.name,
        "message": event_dict.pop("event", ""),
        "request_id": event_dict.pop("request_id", None) or "-",
    }
    exc_info = event_dict.pop("exc_info", None)
    stack_info = event_dict.pop("stack_info", None) or event_dict.pop("stack", None)
    for key, value in event_dict.items():  # a structlog call's key/values, which cannot overwrite the fields
        line.setdefault(key, value)
    if exc_info and (text := _exception_text(exc_info)):
        line["exc_info"] = text
    if isinstance(stack_info, str):
        line["stack_info"] = stack_info
    return line


# settings.LOGGING's formatter: the chain for records from `logging` (Django, Celery, axes, our getLogger
# calls) picks up the request id at the time of the call (the console handler formats synchronously).
FOREIGN_PRE_CHAIN: list[Processor] = [structlog.contextvars.merge_contextvars]
PROCESSORS: list[Processor] = [
    shape_log_line,
    structlog.processors.JSONRenderer(ensure_ascii=False, default=str),
]


def configure_structlog() -> None:
    """Send `structlog.get_logger()` calls through `logging`, so that they reach the same handler and
    formatter as every other record (called from settings)."""
    structlog.configure(
        processors=[
            structlog.stdlib.filter_by_level,  # below LOG_LEVEL, stop before any work
            structlog.contextvars.merge_contextvars,
            structlog.processors.StackInfoRenderer(),
            structlog.stdlib.ProcessorFormatter.wrap_for_formatter,
        ],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
