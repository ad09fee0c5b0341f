"""The statements' pages."""

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render


def verify(request: HttpRequest) -> HttpResponse:
    return render(request, "statements/verify.html", {})
