"""Rate limits (portal/ratelimit.py) in Redis: over the limit is a 429 page that says when to retry."""

import datetime
import logging

import pytest
import time_machine
from axes.models import AccessAttempt
from django.conf import settings as django_settings
from django.http import HttpResponse
from django.urls import reverse

from portal.models import AuditEvent
from portal.ratelimit import local_windows, rate_limit
from tests.factories import PASSWORD
from tests.keys import form_key
from tests.twofactor import enrol

IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
WINDOW_START = datetime.datetime(2026, 3, 2, 10, 0, 0, tzinfo=IST)  # a multiple of 60 s since the epoch


@pytest.fixture
def limits(settings):
    """Set some scopes' limits for one test: `limits(login_ip=(3, 60))`."""

    def set_(**scopes):
        settings.RATE_LIMITS = {**django_settings.RATE_LIMITS, **scopes}

    return set_


@pytest.fixture
def frozen():
    with time_machine.travel(WINDOW_START + datetime.timedelta(seconds=20), tick=False) as traveller:
        yield traveller


WRONG = "not-the-password"


def _sign_in(client, email="alice@example.com", password=WRONG, ip="198.51.100.7", **extra):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip, **extra)


def test_it_answers_429_with_retry_after_and_a_friendly_page(client, alice, limits, frozen):
    limits(login_ip=(3, 60))
    for n in range(3):
        assert _sign_in(client, f"guess{n}@example.com").status_code == 200
    response = _sign_in(client, "alice@example.com", PASSWORD)
    assert response.status_code == 429
    assert response["Retry-After"] == "60"  # the oldest of the three leaves the window in 60 s
    assert response.templates[0].name == "429.html"
    page = response.content.decode()
    assert "<h1>Too many attempts</h1>" in page
    # 10:01:20, told in the site's format to the minute, rounded up (never refused at the time given).
    assert "Please try again from 10:02 AM IST." in page
    assert "Please wait" not in page  # a wait or a time of day, not both
    assert "_auth_user_id" not in client.session
    assert 'href="/login/"' in page


def test_it_tells_a_wait_under_a_minute_in_seconds_only(client, alice, limits, frozen):
    limits(login_ip=(3, 30))
    for n in range(3):
        _sign_in(client, f"guess{n}@example.com")
    response = _sign_in(client, "alice@example.com", PASSWORD)
    assert response["Retry-After"] == "30"
    page = response.content.decode()
    assert "Please wait 30 seconds and try again." in page
    assert " IST" not in page.split("<main")[1].split("</main>")[0]


def test_it_counts_each_address_on_its_own(client, alice, limits, frozen):
    limits(login_ip=(2, 60))
    _sign_in(client, ip="192.0.2.1")
    _sign_in(client, ip="192.0.2.1")
    assert _sign_in(client, ip="192.0.2.1").status_code == 429
    assert _sign_in(client, "alice@example.com", PASSWORD, ip="192.0.2.2").status_code == 302


def test_it_limits_one_email_from_many_addresses(client, alice, limits, frozen):
    limits(login_email=(3, 60))
    for n in range(3):
        _sign_in(client, "Alice@Example.com", ip=f"192.0.2.{n + 1}")
    assert _sign_in(client, "alice@example.com", PASSWORD, ip="192.0.2.50").status_code == 429
    assert _sign_in(client, "bob@example.com", ip="192.0.2.51").status_code == 200


def test_it_lets_one_more_in_when_the_oldest_leaves_the_window(client, alice, limits, frozen):
    limits(login_ip=(2, 60))
    _sign_in(client)  # 10:00:20
    frozen.shift(datetime.timedelta(seconds=30))
    _sign_in(client)  # 10:00:50
    refused = _sign_in(client, "alice@example.com", PASSWORD)
    assert refused.status_code == 429
    assert refused["Retry-After"] == "30"  # 10:01:20, when the first leaves the window
    frozen.shift(datetime.timedelta(seconds=29))
    assert _sign_in(client, "alice@example.com", PASSWORD)["Retry-After"] == "1"
    frozen.shift(datetime.timedelta(seconds=1))  # 10:01:20
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302


@pytest.mark.parametrize("cache", ["default", "local"])
def test_twice_the_limit_cannot_pass_across_a_minute(client, alice, limits, settings, cache):
    """A fixed window let 3 through at 10:00:59 and 3 more at 10:01:00. Not a sliding one: in Redis, and in
    local memory on the embedded defaults."""
    settings.CACHES = {
        **django_settings.CACHES,
        "local": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    }
    settings.RATE_LIMIT_CACHE = cache
    local_windows.clear()
    limits(login_ip=(3, 60))
    with time_machine.travel(WINDOW_START + datetime.timedelta(seconds=59), tick=False) as traveller:
        assert [_sign_in(client, ip="192.0.2.77").status_code for _ in range(3)] == [200, 200, 200]
        traveller.shift(datetime.timedelta(seconds=1))  # 10:01:00: a new fixed window
        refused = _sign_in(client, "alice@example.com", PASSWORD, ip="192.0.2.77")
        assert refused.status_code == 429
        assert refused["Retry-After"] == "59"
        traveller.shift(datetime.timedelta(seconds=58))
        assert _sign_in(client, "alice@example.com", PASSWORD, ip="192.0.2.77").status_code == 429
        traveller.shift(datetime.timedelta(seconds=1))  # 10:01:59, a minute after the first
        assert _sign_in(client, "alice@example.com", PASSWORD, ip="192.0.2.77").status_code == 302


def test_it_counts_posts_only(client, limits, db):
    limits(login_ip=(1, 60))
    for _ in range(5):
        assert client.get(reverse("login")).status_code == 200


def test_it_limits_transfer_confirmations_per_customer(
    client, alice, bob, alice_savings, alice_current, limits
):
    limits(transfer_confirm=(2, 60))
    client.force_login(alice)
    data = {"source": alice_savings.pk, "destination": alice_current.pk, "amount": "1", "description": ""}
    data["send_again"] = "1"  # the same transfer again within minutes: "Yes, send again" on the review
    for n in range(2):
        response = client.post(reverse("transfer_confirm"), {**data, "idempotency_key": form_key(f"k{n}")})
        assert response.status_code == 303
    refused = client.post(reverse("transfer_confirm"), {**data, "idempotency_key": form_key("k2")})
    assert refused.status_code == 429
    assert 'href="/"' in refused.content.decode()  # back to the accounts, for a signed-in customer
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 50_000_00 - 2_00  # the refused one moved nothing
    client.force_login(bob)
    assert (
        client.post(reverse("transfer_confirm"), {**data, "idempotency_key": form_key("b")}).status_code
        != 429
    )


def test_it_gives_htmx_the_page_content_for_main(client, alice, limits, frozen):
    limits(login_ip=(1, 60))
    _sign_in(client)
    response = _sign_in(client, HTTP_HX_REQUEST="true")
    assert response.status_code == 429
    assert response["HX-Retarget"] == "#main"
    assert response["HX-Reswap"] == "innerHTML"
    assert response["Retry-After"] == "60"
    page = response.content.decode()
    assert "<h1>Too many attempts</h1>" in page and "<html" not in page


UNAVAILABLE = "Signing in is unavailable for a moment. Your account is safe; try again in a few minutes."


@pytest.fixture
def limiter_down(settings):
    """The limiter's Redis cannot be reached (the sessions' Redis still answers)."""
    settings.CACHES = {
        **django_settings.CACHES,
        "unreachable": {
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }

    def down():
        settings.RATE_LIMIT_CACHE = "unreachable"

    return down


def test_a_sign_in_fails_closed_when_the_cache_is_down(client, alice, limiter_down, caplog):
    """Failing open gave an attacker with many addresses unlimited guesses, and (the sessions in the same
    Redis) a right password a 500 where a wrong one got a 200. Now a 503 before any password is checked."""
    limiter_down()
    with caplog.at_level(logging.ERROR, logger="portal.ratelimit"):
        wrong = _sign_in(client)
        right = _sign_in(client, "alice@example.com", PASSWORD)
    for response in (wrong, right):
        assert response.status_code == 503
        assert response["Retry-After"] == "120"
        assert response.templates[0].name == "503.html"
        assert UNAVAILABLE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AccessAttempt.objects.exists()  # axes never saw a password
    assert not AuditEvent.objects.filter(action__startswith="login.").exists()
    assert "Rate limit login_ip not checked: the cache is unavailable; refused" in caplog.text
    assert client.get(reverse("login")).status_code == 200  # the page itself is there


def test_it_gives_htmx_the_unavailable_page_for_main(client, alice, limiter_down):
    limiter_down()
    response = _sign_in(client, HTTP_HX_REQUEST="true")
    assert response.status_code == 503
    assert response["HX-Retarget"] == "#main"
    page = response.content.decode()
    assert UNAVAILABLE in page and "<html" not in page


def test_code_entries_fail_closed_when_the_cache_is_down(client, alice, limiter_down):
    enrol(alice)
    _sign_in(client, password=PASSWORD)  # the code step comes next
    limiter_down()
    response = client.post(reverse("login_verify"), {"code": "000000"})
    assert response.status_code == 503 and UNAVAILABLE in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action="login.otp_failure").exists()


def test_step_up_and_password_change_fail_closed_when_the_cache_is_down(client, alice, limiter_down):
    client.force_login(alice)
    limiter_down()
    step_up = client.post(reverse("step_up") + "?action=payee.add&next=/", {"password": WRONG})
    change = client.post(
        reverse("password_change"),
        {
            "old_password": WRONG,
            "new_password1": "a-new-long-password",
            "new_password2": "a-new-long-password",
        },
    )
    for response in (step_up, change):
        assert response.status_code == 503
        assert "This is unavailable for a moment. Your account is safe" in response.content.decode()
    assert not AuditEvent.objects.filter(action="stepup.failure").exists()


def test_password_reset_requests_fail_closed_when_the_cache_is_down(
    client, alice, limiter_down, django_capture_on_commit_callbacks
):
    limiter_down()
    with django_capture_on_commit_callbacks() as callbacks:
        response = client.post(reverse("password_reset"), {"email": "alice@example.com"})
    assert response.status_code == 503 and UNAVAILABLE in response.content.decode()
    assert callbacks == []  # no email queued
    assert not AuditEvent.objects.filter(action="password.reset_requested").exists()


def test_a_transfer_confirmation_fails_open_when_the_cache_is_down(
    client, alice, alice_savings, alice_current, limits, limiter_down, caplog
):
    """Documented: the transfer limit only paces a signed-in customer's own clicks (the session, CSRF, the
    ledger's rules and step-up still stand), so a Redis outage of the limiter alone does not stop payments."""
    limits(transfer_confirm=(1, 60))
    client.force_login(alice)
    limiter_down()
    data = {"source": alice_savings.pk, "destination": alice_current.pk, "amount": "1", "description": ""}
    data["send_again"] = "1"  # the same transfer again within minutes: "Yes, send again" on the review
    with caplog.at_level(logging.WARNING, logger="portal.ratelimit"):
        for n in range(2):
            response = client.post(
                reverse("transfer_confirm"), {**data, "idempotency_key": form_key(f"k{n}")}
            )
            assert response.status_code == 303
    assert "Rate limit transfer_confirm not checked: the cache is unavailable" in caplog.text


def test_it_refuses_an_unknown_scope_when_the_view_is_defined():
    with pytest.raises(KeyError, match="no scope 'nonsense'"):
        rate_limit("nonsense", key=lambda request: "x")(lambda request: HttpResponse())


def test_codes_typed_at_sign_in_are_limited_per_customer(client, alice, limits, frozen):
    limits(otp=(2, 60))
    enrol(alice)
    _sign_in(client, password=PASSWORD)  # the password is right: the code step comes next
    for _ in range(2):
        assert client.post(reverse("login_verify"), {"code": "000000"}).status_code == 200
    response = client.post(reverse("login_verify"), {"code": "000000"})
    assert response.status_code == 429
    assert "_auth_user_id" not in client.session


def test_step_up_answers_are_limited_per_customer(client, alice, limits, frozen):
    limits(otp=(1, 60))
    client.force_login(alice)
    url = reverse("step_up") + "?action=payee.add&next=/"
    assert client.post(url, {"password": WRONG}).status_code == 200
    assert client.post(url, {"password": PASSWORD}).status_code == 429


def test_the_redis_window_keeps_at_most_the_limit_and_outlives_its_window_in_redis():
    from django.core.cache import cache

    key = "ratelimit:test:window"
    cache.delete(key)
    hits = [cache.window_hit(key, now_ms=1_000 + n, window_ms=60_000, limit=2) for n in range(4)]
    assert hits == [0, 0, 60_000 - 2, 60_000 - 3]  # refused ones are not recorded
    client = cache._cache.get_client(write=True)
    redis_key = cache.make_and_validate_key(key)
    assert client.zcard(redis_key) == 2
    # Redis keeps the log a grace past the window: which times count is decided by now_ms alone, so a
    # clock other than Redis' (frozen in these tests, or a host's drift) never loses a window early.
    assert 119_000 <= client.pttl(redis_key) <= 120_000
    assert cache.window_hit(key, now_ms=61_000, window_ms=60_000, limit=2) == 0  # the first has left
    cache.delete(key)
