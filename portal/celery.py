"""The Celery app, and the request id that travels with every task a web request sends.

`before_task_publish` copies the id of the request being served (`portal.logging.current_request_id`) into
the task message's headers; in the worker, `task_prerun` binds it for the length of the task, so the
worker's JSON log lines and any audit event the task writes carry the id of the request that caused them.
`task_postrun` puts back whatever was bound before (nothing in a worker; the request itself when a task
runs eagerly inside it).
"""

import os
from typing import Any

from celery import Celery
from celery.signals import before_task_publish, task_postrun, task_prerun

from portal.logging import bind_request, current_request_id, current_request_meta

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "portal.settings")

app = Celery("portal")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# The message header that carries the id (custom headers become attributes of `task.request`).
REQUEST_ID_HEADER = "portal_request_id"


@before_task_publish.connect(dispatch_uid="portal.celery.send_request_id")
def send_request_id(headers: dict | None = None, **kwargs: Any) -> None:
    request_id = current_request_id()
    if request_id and headers is not None:
        headers.setdefault(REQUEST_ID_HEADER, request_id)


@task_prerun.connect(dispatch_uid="portal.celery.bind_request_id")
def bind_request_id(task: Any = None, **kwargs: Any) -> None:
    request_id = getattr(task.request, REQUEST_ID_HEADER, None) if task is not None else None
    if request_id:
        task.request.portal_previous_request = (current_request_id(), current_request_meta())
        bind_request(str(request_id), {})


@task_postrun.connect(dispatch_uid="portal.celery.unbind_request_id")
def unbind_request_id(task: Any = None, **kwargs: Any) -> None:
    previous = getattr(task.request, "portal_previous_request", None) if task is not None else None
    if previous is not None:
        bind_request(*previous)
