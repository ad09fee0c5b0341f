"""Views that log during a request, for tests/portal/test_logging.py."""

import logging

import structlog
from django.http import HttpRequest, HttpResponse
from django.urls import include, path


def log_lines(request: HttpRequest) -> HttpResponse:
    logging.getLogger("portal.test").warning("through logging in a view")
    structlog.get_logger("portal.test").warning("through structlog in a view", account="SB-1")
    return HttpResponse("logged")


def fail(request: HttpRequest) -> HttpResponse:
    raise ValueError("boom in a view")


# The portal's own urls too: the error page links to them.
urlpatterns = [path("test-log/", log_lines), path("test-fail/", fail), path("", include("portal.urls"))]
