"""A view that sends a task, for tests/portal/test_celery_request_id.py."""

from django.http import HttpRequest, HttpResponse
from django.urls import path


def send_task(request: HttpRequest) -> HttpResponse:
    from tests.portal.test_celery_request_id import audit_from_task

    audit_from_task.delay("sent-by-request")
    return HttpResponse("sent")


urlpatterns = [path("send-task/", send_task)]
