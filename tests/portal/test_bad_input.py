"""Bad input gets a clear answer, never a 500: every customer URL (walked from the resolver, as the IDOR
sweep does) is sent junk by GET and POST, signed out and signed in, with and without htmx."""

import pytest
from django.urls import get_resolver, reverse
from django.urls.converters import IntConverter

from tests.portal.test_idor import _SKIP_NAMES, _SKIP_PREFIXES, _walk
from transactions.models import Transaction

JUNK = {
    "username": "x" * 300,
    "email": "\x00@" + "x" * 300,
    "password": "\u202e\x00'; DROP TABLE accounts_account; --",
    "code": "１２３４５６",  # full-width digits
    "source": "../../etc/passwd",
    "destination": "-1",
    "amount": "1e309",
    "description": "\ud7ff" * 200,
    "idempotency_key": "k" * 500,
    "review": "no/such/review",
    "old_password": "",
    "new_password1": "short",
    "new_password2": "different",
    "next": "https://evil.example/",
}
QUERY = "?next=//evil.example/&action=nonsense&change=a/b&since=not-a-date&until=2026-13-45"


def _urls() -> list[str]:
    urls = []
    for name, route, params in _walk(get_resolver()):
        if name in _SKIP_NAMES or route.lstrip("^/").startswith(_SKIP_PREFIXES) or "admin" in route:
            continue
        kwargs = {p: (987654 if issubclass(t, IntConverter) else "junk-token") for p, t in params.items()}
        urls.append(reverse(name, kwargs=kwargs))
    return sorted(set(urls))


URLS = _urls()


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "alice"])
@pytest.mark.parametrize("htmx", [False, True], ids=["plain", "htmx"])
def test_no_customer_url_answers_junk_with_a_500(
    client, alice, alice_savings, alice_current, signed_in, htmx
):
    assert len(URLS) >= 10  # the walk found the site
    if signed_in:
        client.force_login(alice)
    headers = {"HTTP_HX_REQUEST": "true"} if htmx else {}
    before = Transaction.objects.count()
    for url in URLS:
        for method in (client.get, client.post):
            response = method(url + QUERY, JUNK if method == client.post else None, **headers)
            assert response.status_code < 500, f"{method.__name__.upper()} {url}: {response.status_code}"
        if not signed_in:
            continue
        client.force_login(alice)  # some junk (a wrong step-up answer, "This wasn't me") may sign her out
    assert Transaction.objects.count() == before
