"""The id of the web request travels with every task it sends: a real worker (in a thread, on the test
Redis broker) logs and audits the task under the same id."""

import io
import json
import logging
import time

import pytest
import structlog
from celery.contrib.testing.worker import start_worker
from celery.utils.log import get_task_logger
from django.test import Client
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from portal.audit import audit_record
from portal.celery import REQUEST_ID_HEADER, app, bind_request_id, send_request_id, unbind_request_id
from portal.logging import bind_request, current_request_id, current_request_meta
from portal.models import AuditEvent


@app.task(name="tests.portal.audit_from_task")
def audit_from_task(marker: str) -> None:
    """Stands for any task that records an event (a statement download, a notification)."""
    get_task_logger(__name__).warning("Task ran: %s", marker)
    audit_record(action="test.task", after={"marker": marker})


def test_it_puts_the_request_id_in_the_headers_of_a_task_sent_during_a_request():
    headers: dict = {}
    bind_request("req-123", {})
    try:
        send_request_id(headers=headers)
    finally:
        bind_request(None, None)
    assert headers[REQUEST_ID_HEADER] == "req-123"
    outside: dict = {}
    send_request_id(headers=outside)
    assert outside == {}


def test_it_binds_the_request_id_while_the_task_runs_and_restores_what_was_bound_before():
    task = audit_from_task
    task.push_request(**{REQUEST_ID_HEADER: "req-456"})
    try:
        bind_request("outer", {"REMOTE_ADDR": "127.0.0.1"})
        bind_contextvars(account="SB-1")  # a key the request bound for its own log lines
        bind_request_id(task=task)
        assert current_request_id() == "req-456"
        assert get_contextvars() == {"request_id": "req-456"}
        assert current_request_meta() == {}
        unbind_request_id(task=task)
        assert current_request_id() == "outer"
        assert get_contextvars() == {"request_id": "outer", "account": "SB-1"}
        assert current_request_meta() == {"REMOTE_ADDR": "127.0.0.1"}
    finally:
        task.pop_request()
        bind_request(None, None)
        clear_contextvars()


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_audits_a_task_under_the_id_of_the_request_that_sent_it(settings):
    settings.ROOT_URLCONF = "tests.portal.celery_urls"
    stream = io.StringIO()
    with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
        # The worker's start ran django.setup() again: the console handler is the one LOGGING made then.
        handler = next(
            h
            for h in logging.getLogger().handlers
            if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
        )
        previous = handler.setStream(stream)
        try:
            response = Client().get("/send-task/", headers={"X-Request-ID": "trace-task-1"})
            assert response.status_code == 200
            deadline = time.monotonic() + 15
            while not (events := list(AuditEvent.objects.filter(action="test.task"))):
                assert time.monotonic() < deadline, "the worker never ran the task"
                time.sleep(0.1)
        finally:
            handler.setStream(previous)
    assert len(events) == 1
    assert events[0].after == {"marker": "sent-by-request"}
    assert events[0].request_id == "trace-task-1"
    # The task logger's line is JSON like any other (Celery set up no logging of its own), under the same id.
    lines = [json.loads(line) for line in stream.getvalue().splitlines()]
    task_line = next(line for line in lines if line["message"] == "Task ran: sent-by-request")
    assert task_line["request_id"] == "trace-task-1"
    assert task_line["logger"] == __name__
