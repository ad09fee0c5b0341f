"""Security headers on every page, private caching of signed-in pages, and the request id
(portal/middleware.py, django-csp, Django's SecurityMiddleware). The id on log lines: test_logging.py."""

import re

import pytest
from django.urls import reverse

from tests.factories import PASSWORD
from tests.keys import form_key
from transactions import services

EXPECTED_CSP = {
    "default-src": "'self'",
    "script-src": "'self'",
    "style-src": "'self'",
    "img-src": "'self' data:",
    "object-src": "'none'",
    "base-uri": "'none'",
    "form-action": "'self'",
    "frame-ancestors": "'none'",
}


def _csp(response) -> dict[str, str]:
    directives = (part.strip().split(" ", 1) for part in response["Content-Security-Policy"].split(";"))
    return {name: value for name, value in directives}


def _assert_secure_headers(response) -> None:
    assert _csp(response) == EXPECTED_CSP
    assert "unsafe-inline" not in response["Content-Security-Policy"]
    assert "unsafe-eval" not in response["Content-Security-Policy"]
    assert response["X-Content-Type-Options"] == "nosniff"
    assert response["Referrer-Policy"] == "same-origin"
    assert response["Cross-Origin-Opener-Policy"] == "same-origin"
    assert response["X-Frame-Options"] == "DENY"


def _cache_control(response) -> set[str]:
    return {part.strip() for part in response["Cache-Control"].split(",")}


def _assert_private(response) -> None:
    cache_control = _cache_control(response)
    assert "no-store" in cache_control
    assert "public" not in cache_control
    assert "Cookie" in {part.strip() for part in response["Vary"].split(",")}


@pytest.fixture
def receipt_url(alice, alice_savings, alice_current) -> str:
    txn = services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_000_00,
        description="Rent share",
        idempotency_key="receipt-1",
    )
    return reverse("transfer_detail", args=[txn.pk])


def test_it_sends_the_csp_and_security_headers_on_the_login_page(client, db):
    response = client.get(reverse("login"))
    assert response.status_code == 200
    _assert_secure_headers(response)


def test_it_sends_the_csp_and_security_headers_on_the_dashboard(client, alice, alice_savings):
    client.force_login(alice)
    response = client.get(reverse("dashboard"))
    assert response.status_code == 200
    _assert_secure_headers(response)


def test_it_tells_htmx_not_to_inject_its_indicator_styles(client, db):
    body = client.get(reverse("login")).content.decode()
    assert """<meta name="htmx-config" content='{"includeIndicatorStyles": false, """ in body


def test_it_keeps_the_signed_in_pages_out_of_every_cache(
    client, alice, alice_savings, alice_current, receipt_url
):
    client.force_login(alice)
    for url in (reverse("dashboard"), reverse("transfer_new"), receipt_url):
        response = client.get(url)
        assert response.status_code == 200, url
        _assert_private(response)
        _assert_secure_headers(response)


def test_it_keeps_htmx_answers_to_a_signed_in_post_out_of_every_cache(
    client, alice, alice_savings, alice_current
):
    client.force_login(alice)
    data = {
        "source": alice_savings.pk,
        "destination": alice_current.pk,
        "amount": "12.50",
        "description": "",
        "idempotency_key": form_key("k-1"),
    }
    response = client.post(reverse("transfer_new"), data, headers={"HX-Request": "true"})
    assert response.status_code == 200
    _assert_private(response)


def test_it_keeps_every_step_of_the_transfer_out_of_every_cache(client, alice, alice_savings, alice_current):
    """No exception for pages answering a POST: the review is a GET page reached by redirect, so Back
    fetches it again from the server."""
    client.force_login(alice)
    data = {
        "source": alice_savings.pk,
        "destination": alice_current.pk,
        "amount": "12.50",
        "description": "",
        "idempotency_key": form_key("k-1"),
    }
    with_errors = client.post(reverse("transfer_new"), {**data, "amount": "x"})
    assert with_errors.status_code == 200
    _assert_private(with_errors)
    to_review = client.post(reverse("transfer_new"), data)
    assert to_review.status_code == 303
    _assert_private(to_review)
    review = client.get(to_review["Location"])
    assert "Review your transfer" in review.content.decode()
    _assert_private(review)
    confirmed = client.post(reverse("transfer_confirm"), data)
    assert confirmed.status_code == 303
    _assert_private(confirmed)
    _assert_private(client.get(confirmed["Location"]))


def test_it_makes_the_session_and_csrf_cookies_http_only(client, alice):
    login_page = client.get(reverse("login"))
    assert login_page.cookies["csrftoken"]["httponly"] is True
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response.status_code == 302
    session_cookie = response.cookies["sessionid"]
    assert session_cookie["httponly"] is True
    assert session_cookie["samesite"] == "Lax"
    _assert_private(response)  # the redirect after sign-in is already a signed-in response


# Request id -------------------------------------------------------------------------------------------

GENERATED = re.compile(r"[0-9a-f]{32}")


def test_it_echoes_a_well_formed_request_id(client):
    response = client.get(reverse("health"), headers={"X-Request-ID": "lb-7f3a.9_Z"})
    assert response["X-Request-ID"] == "lb-7f3a.9_Z"
    assert response.wsgi_request.request_id == "lb-7f3a.9_Z"
    longest = "a" * 64
    assert client.get(reverse("health"), headers={"X-Request-ID": longest})["X-Request-ID"] == longest


@pytest.mark.parametrize(
    "bad",
    ["has spaces", "a" * 65, "a" * 200, "", "line\r\nbreak", 'quote"d', "ünïcode", "semi;colon", "{json}"],
)
def test_it_replaces_a_malformed_request_id(client, bad):
    response = client.get(reverse("health"), headers={"X-Request-ID": bad})
    assert GENERATED.fullmatch(response["X-Request-ID"])
    assert response.wsgi_request.request_id == response["X-Request-ID"]


def test_it_makes_a_new_request_id_when_there_is_none(client):
    first = client.get(reverse("health"))["X-Request-ID"]
    second = client.get(reverse("health"))["X-Request-ID"]
    assert GENERATED.fullmatch(first) and GENERATED.fullmatch(second)
    assert first != second


def test_it_sends_the_request_id_on_signed_in_pages_and_redirects(client, alice, alice_savings):
    assert GENERATED.fullmatch(client.get(reverse("dashboard"))["X-Request-ID"])  # the redirect to login
    client.force_login(alice)
    assert client.get(reverse("dashboard"), headers={"X-Request-ID": "abc"})["X-Request-ID"] == "abc"
