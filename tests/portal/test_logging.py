"""Every log line is one JSON object carrying the id of the request that produced it (portal/logging.py,
structlog's ProcessorFormatter as configured in settings.LOGGING): records from Django and `logging` as from
`structlog.get_logger()`, inside a request and outside one, with the traceback when there is one."""

import io
import json
import logging
import re
from collections.abc import Callable, Iterator

import pytest
import structlog
import time_machine
from django.test import Client
from structlog.contextvars import bind_contextvars, clear_contextvars, get_contextvars

from portal.logging import bind_request, current_request_id, current_request_meta

FIELDS = ["time", "level", "logger", "message", "request_id"]
ISO_UTC_MILLIS = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}\+00:00")


@pytest.fixture(autouse=True)
def _clean_context() -> Iterator[None]:
    yield
    bind_request(None, None)
    clear_contextvars()


@pytest.fixture
def log_lines() -> Iterator[Callable[[], list[dict]]]:
    """The lines the console handler configured in settings writes (its stream swapped for a buffer), each
    parsed: a line that is not one whole JSON object fails the test."""
    handler = next(
        h
        for h in logging.getLogger().handlers
        if isinstance(h.formatter, structlog.stdlib.ProcessorFormatter)
    )
    stream = io.StringIO()
    previous = handler.setStream(stream)
    yield lambda: [json.loads(line) for line in stream.getvalue().splitlines()]
    handler.setStream(previous)


@pytest.fixture
def log_client(settings, db) -> Client:
    settings.ROOT_URLCONF = "tests.portal.logging_urls"
    return Client(raise_request_exception=False)


def test_django_lines_carry_the_id_of_their_request_and_others_a_dash(client, db, log_lines):
    response = client.get("/no-such-page/", headers={"X-Request-ID": "trace-json"})
    assert response.status_code == 404
    assert current_request_id() is None  # unbound once the response is closed
    logging.getLogger("portal.test").warning("outside any request")
    not_found, outside = log_lines()
    assert list(not_found) == FIELDS
    assert not_found["logger"] == "django.request"
    assert not_found["level"] == "WARNING"
    assert not_found["message"] == "Not Found: /no-such-page/"
    assert not_found["request_id"] == "trace-json"
    assert ISO_UTC_MILLIS.fullmatch(not_found["time"])
    assert outside == {
        **outside,
        "logger": "portal.test",
        "message": "outside any request",
        "request_id": "-",
    }


def test_lines_logged_by_a_view_through_logging_and_structlog_carry_the_request_id(log_client, log_lines):
    response = log_client.get("/test-log/", headers={"X-Request-ID": "trace-view"})
    assert response.status_code == 200
    through_logging, through_structlog = log_lines()
    assert through_logging == {
        **through_logging,
        "level": "WARNING",
        "logger": "portal.test",
        "message": "through logging in a view",
        "request_id": "trace-view",
    }
    assert list(through_structlog) == [*FIELDS, "account"]  # the call's key/values follow the fields
    assert through_structlog == {
        **through_structlog,
        "level": "WARNING",
        "logger": "portal.test",
        "message": "through structlog in a view",
        "request_id": "trace-view",
        "account": "SB-1",
    }


def test_a_generated_request_id_is_the_one_on_the_line_and_in_the_response(log_client, log_lines):
    response = log_client.get("/test-log/")
    assert {line["request_id"] for line in log_lines()} == {response["X-Request-ID"]}


def test_an_error_in_a_view_is_logged_with_its_traceback_under_the_request_id(log_client, log_lines):
    response = log_client.get("/test-fail/", headers={"X-Request-ID": "trace-500"})
    assert response.status_code == 500
    (error,) = log_lines()
    assert error["logger"] == "django.request"
    assert error["level"] == "ERROR"
    assert error["message"] == "Internal Server Error: /test-fail/"
    assert error["request_id"] == "trace-500"
    assert error["exc_info"].startswith("Traceback (most recent call last):")
    assert error["exc_info"].endswith("ValueError: boom in a view")


def test_exceptions_and_stacks_are_text_in_the_line_outside_a_request(log_lines):
    try:
        raise ValueError("boom")
    except ValueError:
        logging.getLogger("portal.test").exception("failed %s", "x")
        structlog.get_logger("portal.test").exception("failed through structlog")
    logging.getLogger("portal.test").warning("where am I", stack_info=True)
    through_logging, through_structlog, stack = log_lines()
    assert through_logging["message"] == "failed x"
    assert through_logging["level"] == "ERROR"
    assert through_logging["request_id"] == "-"
    assert "ValueError: boom" in through_logging["exc_info"]
    assert through_structlog["message"] == "failed through structlog"
    assert "ValueError: boom" in through_structlog["exc_info"]
    assert stack["stack_info"].startswith("Stack (most recent call last):")
    assert "test_exceptions_and_stacks_are_text_in_the_line_outside_a_request" in stack["stack_info"]


@time_machine.travel("2026-01-02 03:04:05.678Z", tick=False)
def test_the_time_is_the_records_own_in_utc_to_the_millisecond(log_lines):
    logging.getLogger("portal.test").warning("now")
    assert log_lines()[0]["time"] == "2026-01-02T03:04:05.678+00:00"


def test_the_request_meta_never_reaches_a_line(log_lines):
    bind_request("trace-meta", {"HTTP_COOKIE": "sessionid=do-not-log", "REMOTE_ADDR": "203.0.113.9"})
    assert current_request_meta()["REMOTE_ADDR"] == "203.0.113.9"  # the audit trail still reads it
    logging.getLogger("portal.test").warning("with meta bound")
    (line,) = log_lines()
    assert list(line) == FIELDS
    assert line["request_id"] == "trace-meta"
    assert "do-not-log" not in json.dumps(line)


def test_a_request_starts_from_a_clean_context(client, db, log_lines):
    bind_contextvars(leftover="from an earlier request")
    client.get("/no-such-page/", headers={"X-Request-ID": "trace-clean"})
    (not_found,) = log_lines()
    assert "leftover" not in not_found
    assert get_contextvars() == {}


def test_lines_below_the_log_level_are_not_written(log_lines, settings):
    logger = structlog.get_logger("portal.test")
    logger.debug("too fine to keep")
    logging.getLogger("portal.test").debug("nor this")
    assert log_lines() == []
