"""Sessions end on the server: 15 minutes idle, 12 hours after sign-in (accounts/sessions.py)."""

import datetime

import pytest
import time_machine
from django.conf import settings
from django.contrib.sessions.backends.base import SessionBase
from django.test import Client
from django.urls import reverse

from accounts.models import UserSession
from portal.models import AuditEvent
from tests.factories import PASSWORD

START = datetime.datetime(2026, 11, 2, 9, 0, tzinfo=datetime.UTC)
MIN = datetime.timedelta(minutes=1)


@pytest.fixture
def clock():
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


def _login(client: Client, email: str = "alice@example.com", **extra) -> None:
    response = client.post(reverse("login"), {"username": email, "password": PASSWORD}, **extra)
    assert response.status_code == 302, response.content.decode()


def test_it_keeps_a_session_used_within_15_minutes(client, alice, clock):
    _login(client)
    clock.shift(14 * MIN)
    assert client.get(reverse("dashboard")).status_code == 200
    clock.shift(14 * MIN)  # 28 minutes after sign-in, 14 after the last request
    assert client.get(reverse("dashboard")).status_code == 200


def test_it_signs_out_after_15_idle_minutes_and_returns_to_the_page_after_login(client, alice, clock):
    _login(client)
    clock.shift(16 * MIN)
    response = client.get("/transfers/new/?from=1")
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/transfers/new/%3Ffrom%3D1"
    assert "_auth_user_id" not in client.session
    event = AuditEvent.objects.get(action="session.expired")
    assert event.actor == alice
    assert event.after["reason"] == "idle"
    assert UserSession.objects.get(user=alice).end_reason == "idle"

    login_page = client.get(response["Location"])
    assert "after 15 minutes without activity" in login_page.content.decode()
    back = client.post(
        response["Location"],
        {"username": alice.email, "password": PASSWORD, "next": "/transfers/new/?from=1"},
    )
    assert back["Location"] == "/transfers/new/?from=1"


def test_an_expired_form_post_returns_to_the_page_of_the_form_after_login(client, alice, clock):
    _login(client)
    clock.shift(16 * MIN)
    response = client.post(
        "/transfers/confirm/", {"amount": "10"}, headers={"Referer": "http://testserver/transfers/new/"}
    )
    assert response["Location"] == "/login/?next=/transfers/new/"
    clock.shift(MIN)
    _login(client)
    clock.shift(16 * MIN)
    elsewhere = client.post("/logout/", headers={"Referer": "https://evil.example/"})
    assert elsewhere["Location"] == "/login/"


def test_it_sends_htmx_to_the_login_page_with_hx_redirect(client, alice, clock):
    _login(client)
    clock.shift(16 * MIN)
    response = client.get(
        "/transfers/new/",
        headers={"HX-Request": "true", "HX-Current-URL": "http://testserver/transfers/new/?amount=5"},
    )
    assert response["HX-Redirect"] == "/login/?next=%2Ftransfers%2Fnew%2F%3Famount%3D5"
    assert response.status_code == 200  # not a 302 that htmx would follow into the fragment


def test_it_counts_an_htmx_request_as_activity_and_says_how_long_is_left(client, alice, clock):
    _login(client)
    clock.shift(10 * MIN)
    response = client.get(reverse("session_ping"), headers={"HX-Request": "true"})
    assert response["X-Session-Idle-Remaining"] == str(settings.SESSION_IDLE_TIMEOUT)
    clock.shift(14 * MIN)
    assert client.get(reverse("dashboard")).status_code == 200


def test_it_ends_every_session_12_hours_after_sign_in_however_busy(client, alice, clock):
    _login(client)
    for _ in range(12 * 6 - 1):  # a request every 10 minutes up to 11 h 50 min
        clock.shift(10 * MIN)
        assert client.get(reverse("session_ping")).status_code == 200
    clock.shift(10 * MIN + datetime.timedelta(seconds=1))
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith("/login/?next=/")
    assert AuditEvent.objects.get(action="session.expired").after["reason"] == "absolute"


def test_it_carries_the_idle_warning_on_signed_in_pages_only(client, alice, clock):
    anonymous = client.get(reverse("login")).content.decode()
    assert "session-warning" not in anonymous and "data-session-remaining" not in anonymous
    _login(client)
    clock.shift(30 * datetime.timedelta(seconds=1))
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-session-remaining="870"' in page  # activity is noted once a minute: 30 s ago
    assert 'data-session-warning="60"' in page
    assert '<dialog id="session-warning"' in page
    assert "Stay signed in" in page


def test_the_warning_says_when_the_12_hours_will_end_the_session_anyway(client, alice, clock):
    _login(client)
    for _ in range(71):  # busy until 11 h 50 min
        clock.shift(10 * MIN)
        client.get(reverse("session_ping"))
    page = client.get(reverse("dashboard")).content.decode()
    assert 'data-session-remaining="600"' in page
    assert 'data-session-ends-by-lifetime="true"' in page
    stay = client.post(reverse("session_ping"))
    assert stay["X-Session-Idle-Remaining"] == "600"  # no activity buys time past the 12 hours
    assert stay["X-Session-Ends-By-Lifetime"] == "true"


def test_stay_signed_in_extends_the_session(client, alice, clock):
    _login(client)
    clock.shift(10 * MIN)
    client.get(reverse("dashboard"))  # activity noted at 10 min
    clock.shift(datetime.timedelta(seconds=59))
    response = client.post(reverse("session_ping"))  # within the minute: only the ping forces a write
    assert response.status_code == 204
    assert response["X-Session-Idle-Remaining"] == "900"
    assert response["X-Session-Ends-By-Lifetime"] == "false"
    clock.shift(14 * MIN + datetime.timedelta(seconds=30))  # 15.5 min after the page, 14.5 after the ping
    assert client.get(reverse("dashboard")).status_code == 200


def test_the_ping_refuses_a_post_without_csrf_and_other_methods(client, alice, clock):
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(alice)
    assert strict.post(reverse("session_ping")).status_code == 403
    client.force_login(alice)
    assert client.put(reverse("session_ping")).status_code == 405


def test_the_ping_writes_nothing_within_a_minute_of_the_last_write(
    client, alice, clock, django_assert_num_queries
):
    _login(client)
    clock.shift(datetime.timedelta(seconds=30))
    with django_assert_num_queries(1):  # the user; the middleware adds no query
        assert client.get(reverse("session_ping")).status_code == 200
    assert client.session["sb.seen"] == int(START.timestamp())
    clock.shift(datetime.timedelta(seconds=40))
    with django_assert_num_queries(2):  # the user, and once a minute the registry's last-seen time
        client.get(reverse("session_ping"))
    assert client.session["sb.seen"] == int(START.timestamp()) + 70
    assert UserSession.objects.get(user=alice).last_seen_at == START + datetime.timedelta(seconds=70)


def test_it_gives_a_new_session_key_at_login(client, alice):
    client.get(reverse("login"))
    session = client.session
    session["visited"] = True
    session.save()
    client.cookies[settings.SESSION_COOKIE_NAME] = session.session_key
    before = session.session_key

    _login(client)

    after = client.cookies[settings.SESSION_COOKIE_NAME].value
    assert after != before
    assert not client.session.__class__().exists(before)
    assert isinstance(client.session, SessionBase) and client.session["_auth_user_id"] == str(alice.pk)


def test_a_session_from_before_the_timeouts_starts_its_clocks_now(client, alice, clock):
    client.force_login(alice)
    session = client.session
    del session["sb.started"], session["sb.seen"]
    session.save()
    assert client.get(reverse("dashboard")).status_code == 200
    assert client.session["sb.seen"] == int(START.timestamp())
