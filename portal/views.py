from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse, HttpResponseServerError
from django.shortcuts import render
from django.template import loader
from django.views.decorators.cache import never_cache


@never_cache
def health(request: HttpRequest) -> HttpResponse:
    """Liveness: the process answers. Touches no database, cache or broker."""
    return HttpResponse("ok", content_type="text/plain")


def page_not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    return render(request, "404.html", status=404)


def server_error(request: HttpRequest) -> HttpResponse:
    # No request context: the database or cache may be what failed.
    return HttpResponseServerError(loader.render_to_string("500.html"))


@login_required
@never_cache
def session_ping(request: HttpRequest) -> HttpResponse:
    """The cheapest signed-in page: the session and user are loaded, nothing else. It keeps a session
    alive, and the benchmark uses it as the floor that every signed-in page pays."""
    return HttpResponse("ok", content_type="text/plain")
