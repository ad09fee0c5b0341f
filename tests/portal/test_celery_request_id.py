"""The id of the web request travels with every task it sends: a real worker (in a thread, on the test
Redis broker) logs and audits the task under the same id."""

import time

import pytest
from celery.contrib.testing.worker import start_worker
from django.test import Client

from portal.audit import audit_record
from portal.celery import REQUEST_ID_HEADER, app, bind_request_id, send_request_id, unbind_request_id
from portal.logging import bind_request, current_request_id
from portal.models import AuditEvent


@app.task(name="tests.portal.audit_from_task")
def audit_from_task(marker: str) -> None:
    """Stands for any task that records an event (a statement download, a notification)."""
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
        bind_request_id(task=task)
        assert current_request_id() == "req-456"
        unbind_request_id(task=task)
        assert current_request_id() == "outer"
    finally:
        task.pop_request()
        bind_request(None, None)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_audits_a_task_under_the_id_of_the_request_that_sent_it(settings):
    settings.ROOT_URLCONF = "tests.portal.celery_urls"
    with start_worker(app, perform_ping_check=False, shutdown_timeout=10):
        response = Client().get("/send-task/", headers={"X-Request-ID": "trace-task-1"})
        assert response.status_code == 200
        deadline = time.monotonic() + 15
        while not (events := list(AuditEvent.objects.filter(action="test.task"))):
            assert time.monotonic() < deadline, "the worker never ran the task"
            time.sleep(0.1)
    assert len(events) == 1
    assert events[0].after == {"marker": "sent-by-request"}
    assert events[0].request_id == "trace-task-1"
