"""The benchmark's baseline: one trivial Django view with no middleware, served by gunicorn exactly like the
portal. What Django itself costs on this machine; every page is reported as a ratio to it."""

import django
from django.conf import settings
from django.core.wsgi import get_wsgi_application
from django.http import HttpRequest, HttpResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    ALLOWED_HOSTS=["127.0.0.1", "localhost"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    SECRET_KEY="bench-trivial-view-holds-no-secrets",  # noqa: S106
)


def trivial(request: HttpRequest) -> HttpResponse:
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [path("", trivial)]

django.setup()
application = get_wsgi_application()
