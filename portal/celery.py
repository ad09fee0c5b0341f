"""The Celery app, and the request id that travels with every task a web request sends.

`before_task_publish` copies the id of the request being served (`portal.logging.current_request_id`) into
the task message's headers; in the worker, `task_prerun` binds it for the length of the task, so the
worker's JSON log lines and any audit event the task writes carry the id of the request that caused them.
`task_postrun` puts back whatever was bound before (nothing in a worker; the request's context, structlog's
variables and the META, when a task runs eagerly inside it).

Celery configures no logging of its own (`setup_logging` has a receiver): the worker and beat keep
settings.LOGGING, so that every line, a task logger's (`get_task_logger`) and Celery's included, is JSON.
"""

import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, setup_logging, task_postrun, task_prerun

from portal.logging import bind_request, current_request_id, request_context, restore_request_context

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the id (custom headers become attributes of `task.request`).
REQUEST_ID_HEADER = "portal_request_id"


@setup_logging.connect(dispatch_uid="portal.celery.keep_django_logging")
def keep_django_logging(**kwargs: Any) -> None:
    """Leave logging as django.setup() configured it. Without a receiver Celery sets the root level from
    --loglevel (LOG_LEVEL decides instead) and gives task loggers a plain-text handler of their own."""


@before_task_publish.connect(dispatch_uid="portal.celery.send_request_id")
def send_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="portal.celery.bind_request_id")
def bind_request_id(task: Any = None, **kwargs: Any) -> None:
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if request_id:
        task.request.portal_previous_request = request_context()
        bind_request(str(request_id), {})


@task_postrun.connect(dispatch_uid="portal.celery.unbind_request_id")
def unbind_request_id(task: Any = None, **kwargs: Any) -> None:
    previous = getattr(task.request, "portal_previous_request", None) if task is not None else None
    if previous is not None:
        restore_request_context(previous)
