"""Lockout (accounts/lockout.py): 5 failed sign-ins lock the (email, address) pair for 30 minutes; an email
failing from anywhere is slowed down, never locked; the owner's own device is never refused; the same answer
whether the email has an account or not."""

import datetime

import pytest
import time_machine
from axes.models import AccessAttempt
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import User
from portal.models import AuditEvent
from tests.factories import PASSWORD, UserFactory
from tests.twofactor import force_login_verified

IST = datetime.timezone(datetime.timedelta(hours=5, minutes=30))
T0 = datetime.datetime(2026, 3, 2, 10, 0, 0, tzinfo=IST)
HOME = "198.51.100.7"
CAFE = "203.0.113.9"
LOCKED = "Too many failed attempts"
ATTACKER = "192.0.2.66"
NAT = "100.64.0.1"  # a carrier-grade NAT: thousands of phones, one address


WRONG = "not-the-password"


def _sign_in(client, email: str, password: str = WRONG, ip: str = HOME):
    return client.post(reverse("login"), {"username": email, "password": password}, REMOTE_ADDR=ip)


def _attack(email: str, failures: int, frozen, ip: str | None = None) -> None:
    """A stranger's failures for `email`, each from a new address unless `ip`, waiting out every slowdown."""
    stranger = Client()
    done = 0
    while done < failures:
        response = _sign_in(stranger, email, ip=ip or f"198.18.{done // 250}.{done % 250 + 1}")
        if response.status_code == 429 and not _pair_locked(response):  # slowed down or rate-limited
            frozen.shift(datetime.timedelta(seconds=int(response["Retry-After"])))
            continue
        done += 1


def _pair_locked(response) -> bool:
    try:
        return "from this connection is paused" in _errors(response)[0]
    except (KeyError, IndexError):  # the rate limit's page
        return False


def _fail(client, email: str, times: int, ip: str = HOME) -> None:
    for _ in range(times):
        assert _sign_in(client, email, ip=ip).status_code == 200


def _errors(response) -> list[str]:
    return list(response.context["form"].non_field_errors())


@pytest.fixture
def frozen():
    with time_machine.travel(T0, tick=False) as traveller:
        yield traveller


def test_it_still_signs_in_after_four_failures(client, alice, frozen):
    _fail(client, "alice@example.com", 4)
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302


def test_it_locks_the_pair_on_the_fifth_failure_and_refuses_even_the_right_password(client, alice, frozen):
    _fail(client, "alice@example.com", 4)
    fifth = _sign_in(client, "alice@example.com")
    assert fifth.status_code == 429
    sixth = _sign_in(client, "Alice@Example.com", PASSWORD)
    assert sixth.status_code == 429
    assert "_auth_user_id" not in client.session
    # 10:00 + 30 minutes, rounded up to the next minute, in the portal's time zone, as the emails write it.
    assert _errors(sixth) == [
        "Too many failed attempts from here. For your security, sign-in to this email from this connection "
        "is paused until 10:31 AM IST. Try again then, or sign in from a device you have signed in on "
        "before. For help, call us on 1800 000 0000."
    ]
    assert 30 * 60 <= int(sixth["Retry-After"]) <= 31 * 60
    page = sixth.content.decode()
    assert 'role="alert"' in page and LOCKED in page
    assert 'name="username"' in page  # the form again, not a bare error page


PAUSED_UNTIL_1031 = (
    "Too many failed attempts from here. For your security, sign-in to this email from this connection is "
    "paused until 10:31 AM IST. Try again then, or sign in from a device you have signed in on before. For "
    "help, call us on 1800 000 0000."
)


def test_a_locked_pair_is_told_until_when_not_the_email_s_seconds(client, alice, frozen):
    """One browser: five wrong passwords lock the pair (and start the email's slowdown). Every answer after
    that, too soon for the slowdown or not, the right password after waiting included, says the same thing:
    paused until 10:31 AM IST, never "wait 2 seconds between attempts"."""
    _fail(client, "alice@example.com", 4)
    answers = [_sign_in(client, "alice@example.com") for _ in range(4)]  # the 5th to the 8th, at once
    frozen.shift(datetime.timedelta(seconds=3))
    answers.append(_sign_in(client, "alice@example.com", PASSWORD))
    assert [_errors(a) for a in answers if "between attempts" in " ".join(_errors(a))] == []
    for answer in answers:
        assert answer.status_code == 429
        assert _errors(answer) == [PAUSED_UNTIL_1031]
        assert 29 * 60 <= int(answer["Retry-After"]) <= 31 * 60
    assert "_auth_user_id" not in client.session


def test_a_stranger_cannot_lock_the_owner_out(client, alice, frozen):
    """Five failures (more than five for the pair) from a stranger's address: the owner, from her own
    address on a new device, gets in at once (the first slowed attempt is hers)."""
    stranger = Client()
    _fail(stranger, "alice@example.com", 4, ip=ATTACKER)
    assert _sign_in(stranger, "alice@example.com", ip=ATTACKER).status_code == 429  # his pair is locked
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=HOME).status_code == 302


def test_it_slows_down_an_email_attacked_from_many_addresses(client, alice, frozen):
    _attack("alice@example.com", 5, frozen)  # five addresses, one failure each: no pair is locked
    assert _sign_in(client, "alice@example.com", ip="198.18.9.1").status_code == 200  # the 6th, at once
    too_soon = _sign_in(client, "alice@example.com", PASSWORD, ip="198.18.9.2")
    assert too_soon.status_code == 429
    assert too_soon["Retry-After"] == "4"
    assert _errors(too_soon) == [
        "Too many failed attempts for this email. For your security, wait 4 seconds between attempts. Then "
        "try again, or sign in from a device you have signed in on before. For help, call us on "
        "1800 000 0000."
    ]
    frozen.shift(datetime.timedelta(seconds=3))
    assert _sign_in(client, "alice@example.com", PASSWORD, ip="198.18.9.2")["Retry-After"] == "1"
    frozen.shift(datetime.timedelta(seconds=1))
    assert _sign_in(client, "alice@example.com", PASSWORD, ip="198.18.9.2").status_code == 302
    # Other emails are not slowed.
    assert AuditEvent.objects.filter(action="login.slowdown").count() == 1


def test_the_owner_on_a_new_device_waits_at_most_a_minute_however_long_the_attack(client, alice, frozen):
    _attack("alice@example.com", 30, frozen)
    response = _sign_in(client, "alice@example.com", PASSWORD, ip=HOME)
    assert response.status_code == 429  # the attacker took this minute's turn a moment ago
    assert response["Retry-After"] == "60"
    frozen.shift(datetime.timedelta(seconds=60))
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=HOME).status_code == 302


def test_the_owner_signs_in_at_once_from_a_device_she_used_before(client, alice, frozen):
    """Her phone signed in last week. Now a stranger behind the same carrier-grade NAT locks the pair
    (alice, NAT) and keeps the email slowed down: the phone, from that very address, still gets in."""
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=NAT).status_code == 302
    client.post(reverse("logout"))
    _attack("alice@example.com", 12, frozen, ip=NAT)
    assert _sign_in(Client(), "alice@example.com", PASSWORD, ip=NAT).status_code == 429  # a new device
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=NAT).status_code == 302  # her phone


@pytest.fixture
def alice_mixed_case(alice):
    """Alice's email as an admin saved it, in mixed case (she types it in lower case)."""
    User.objects.filter(pk=alice.pk).update(email="Alice@Example.com")
    alice.refresh_from_db()
    return alice


def test_the_owner_s_device_is_known_whatever_the_case_of_her_saved_email(client, alice_mixed_case, frozen):
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=NAT).status_code == 302
    client.post(reverse("logout"))
    _attack("alice@example.com", 12, frozen, ip=NAT)
    assert _sign_in(Client(), "alice@example.com", PASSWORD, ip=NAT).status_code == 429  # a new device
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=NAT).status_code == 302  # her phone


def test_the_owner_is_warned_whatever_the_case_of_her_saved_email(
    client, alice_mixed_case, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        _fail(client, "alice@example.com", 4)
        _sign_in(client, "alice@example.com")  # the fifth failure locks
    assert [c.args[:2] for c in callbacks] == [(alice_mixed_case.pk, "lockout")]


def test_a_neighbour_behind_the_same_nat_signs_in_with_the_right_password(client, alice, bob, frozen):
    stranger = Client()
    for n in range(5):
        _sign_in(stranger, f"guess{n}@example.com", ip=NAT)
    _fail(stranger, "alice@example.com", 4, ip=NAT)
    assert _sign_in(stranger, "alice@example.com", ip=NAT).status_code == 429  # the (alice, NAT) pair
    assert _sign_in(client, "bob@example.com", PASSWORD, ip=NAT).status_code == 302


def test_a_stranger_s_failures_from_many_addresses_do_not_lock_the_owner_for_thirty_minutes(
    client, alice, frozen
):
    for n in range(5):
        _sign_in(Client(), "alice@example.com", ip=f"192.0.2.{n + 1}")
    frozen.shift(datetime.timedelta(seconds=2))
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=CAFE).status_code == 302


def test_failures_without_an_address_do_not_lock_the_owner_from_a_real_address(client, alice, frozen):
    """Over a unix socket without a proxy setting no request has an address. Five failures from such
    requests lock no pair (a pair with no address would be the email for every such client)."""
    _fail(Client(), "alice@example.com", 5, ip="")
    assert not AccessAttempt.objects.exists()
    assert _sign_in(client, "alice@example.com", PASSWORD, ip=HOME).status_code == 302


def test_failures_without_an_address_are_braked_by_the_email_slowdown_only(client, alice, frozen):
    stranger = Client()
    _fail(stranger, "alice@example.com", 6, ip="")  # the sixth takes the email's first slowed turn
    too_soon = _sign_in(stranger, "alice@example.com", ip="")
    assert too_soon.status_code == 429
    assert _errors(too_soon) == [
        "Too many failed attempts for this email. For your security, wait 4 seconds between attempts. Then "
        "try again, or sign in from a device you have signed in on before. For help, call us on "
        "1800 000 0000."
    ]
    assert not AuditEvent.objects.filter(action="login.lockout").exists()
    # The owner, also without an address, waits her turn, not thirty minutes.
    frozen.shift(datetime.timedelta(seconds=int(too_soon["Retry-After"])))
    assert _sign_in(client, "alice@example.com", PASSWORD, ip="").status_code == 302


def test_it_unlocks_thirty_minutes_after_the_failure_that_locked(client, alice, frozen):
    _fail(client, "alice@example.com", 4)
    assert _sign_in(client, "alice@example.com").status_code == 429
    frozen.shift(datetime.timedelta(minutes=20))
    # Refused while locked, and that refusal does not push the end of the lock further.
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 429
    frozen.shift(datetime.timedelta(minutes=9, seconds=59))
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 429
    frozen.shift(datetime.timedelta(seconds=2))
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302


def test_it_counts_only_the_failures_of_the_last_thirty_minutes(client, alice, frozen):
    _fail(client, "alice@example.com", 4)
    frozen.shift(datetime.timedelta(minutes=31))
    _fail(client, "alice@example.com", 4)  # the first four are forgotten: 4, not 8
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302


def _page(response) -> str:
    """The page without what differs by design: the email typed back into the form and the CSRF token."""
    page = response.content.decode().replace(str(response.context["csrf_token"]), "TOKEN")
    return page.replace("alice@example.com", "EMAIL").replace("nobody@example.com", "EMAIL")


def test_it_answers_an_unknown_email_exactly_like_a_known_one(client, alice, frozen):
    known = [_sign_in(client, "alice@example.com", ip=HOME) for _ in range(6)]
    unknown = [_sign_in(client, "nobody@example.com", ip=CAFE) for _ in range(6)]
    assert [r.status_code for r in known] == [200, 200, 200, 200, 429, 429]
    for k, u in zip(known, unknown, strict=True):
        assert k.status_code == u.status_code
        assert _errors(k) == _errors(u)
        assert k.get("Retry-After") == u.get("Retry-After")
        assert _page(k) == _page(u)


def test_it_checks_the_password_of_an_unknown_email_too(client, alice, frozen, monkeypatch):
    """No short cut for an email without an account: the password hasher runs either way (Django's
    ModelBackend hashes the password for a dummy user), so the time taken tells nothing."""
    from django.contrib.auth.hashers import MD5PasswordHasher

    hashed = []
    encode = MD5PasswordHasher.encode

    def spy(self, password, salt):
        hashed.append(password)
        return encode(self, password, salt)

    monkeypatch.setattr(MD5PasswordHasher, "encode", spy)
    _sign_in(client, "alice@example.com")
    _sign_in(client, "nobody@example.com", ip=CAFE)
    assert hashed == [WRONG, WRONG]


def test_it_records_the_lockout_once_with_the_email_and_address(client, alice, frozen):
    _fail(client, "alice@example.com", 4)
    _sign_in(client, "alice@example.com")
    _sign_in(client, "alice@example.com", PASSWORD)
    _sign_in(client, "alice@example.com")
    lockouts = list(AuditEvent.objects.filter(action="login.lockout"))
    assert len(lockouts) == 1
    assert lockouts[0].after == {"email": "alice@example.com", "ip": HOME}
    assert lockouts[0].ip == HOME
    # The last attempt came too soon for the slowed-down email: refused before any password check.
    assert AuditEvent.objects.filter(action="login.failure").count() == 6
    (slowdown,) = AuditEvent.objects.filter(action="login.slowdown")
    assert slowdown.after == {"email": "alice@example.com", "failures": 5}
    assert not AuditEvent.objects.filter(action="login.success").exists()


def test_it_keeps_no_password_or_token_in_the_attempts(client, alice, frozen):
    _sign_in(client, "alice@example.com", "hunter2-secret-guess")
    attempt = AccessAttempt.objects.get()
    assert attempt.username == "alice@example.com"
    assert "hunter2" not in attempt.post_data
    assert "csrfmiddlewaretoken=abc" not in attempt.post_data


def test_it_adds_no_query_to_signed_in_pages(client, alice):
    """Axes is a backend and signal receivers, not a middleware: the cheapest signed-in page never reads
    its tables."""
    client.force_login(alice)
    with CaptureQueriesContext(connection) as queries:
        assert client.get(reverse("session_ping")).status_code == 200
    assert not any("axes_" in q["sql"] for q in queries.captured_queries)


# --- Admin --------------------------------------------------------------------------------------------------


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_staff_see_a_lockout_and_clear_it_with_an_audit_event(client, alice, staff, frozen):
    _fail(client, "alice@example.com", 4)
    _sign_in(client, "alice@example.com")
    force_login_verified(client, staff)
    listing = client.get(reverse("admin:axes_accessattempt_changelist"))
    assert listing.status_code == 200
    assert "alice@example.com" in listing.content.decode()
    attempt = AccessAttempt.objects.get()
    assert client.get(reverse("admin:axes_accessattempt_add")).status_code == 403
    view = client.get(reverse("admin:axes_accessattempt_change", args=[attempt.pk]))
    assert view.status_code == 200 and "Save" not in view.content.decode()

    response = client.post(reverse("admin:axes_accessattempt_delete", args=[attempt.pk]), {"post": "yes"})
    assert response.status_code == 302
    event = AuditEvent.objects.get(action="admin.delete")
    assert event.actor == staff
    assert event.before["email"] == "alice@example.com" and event.before["ip"] == HOME
    client.logout()
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302


def test_it_emails_the_owner_of_a_locked_email_once(
    client, alice, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        _fail(client, "alice@example.com", 4)
        _sign_in(client, "alice@example.com")  # the fifth failure locks
        _sign_in(client, "alice@example.com")  # refused while locked: no second email
    (queued,) = callbacks
    user_id, kind, context = queued.args
    assert (user_id, kind) == (alice.pk, "lockout")
    assert context["minutes"] == 30 and context["ip"] == HOME


def test_a_locked_unknown_email_emails_nobody(client, alice, frozen, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        _fail(client, "nobody@example.com", 4)
        assert _sign_in(client, "nobody@example.com").status_code == 429
    assert callbacks == []


def test_the_owner_hears_once_however_many_addresses_are_locked(
    client, alice, frozen, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks:
        for ip in (ATTACKER, CAFE):
            _attack("alice@example.com", 5, frozen, ip=ip)  # locks this pair
    assert AuditEvent.objects.filter(action="login.lockout").count() == 2
    notifications = [c for c in callbacks if c.args[1:2] == ("lockout",)]
    assert len(notifications) == 1


def test_a_flood_for_the_email_does_not_rate_limit_the_owner_s_device(client, alice, frozen, settings):
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_email": (3, 60)}
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302
    client.post(reverse("logout"))
    for n in range(3):
        _sign_in(Client(), "alice@example.com", ip=f"192.0.2.{n + 1}")
    assert _sign_in(Client(), "alice@example.com", PASSWORD, ip=CAFE).status_code == 429  # rate-limited
    assert _sign_in(client, "alice@example.com", PASSWORD).status_code == 302  # her browser: its own bucket


def test_the_email_slowdown_fails_closed_when_the_cache_is_down(client, alice, frozen, settings):
    """Even were the sign-in's rate limits to fail open, the per-email slowdown does not: a 503 before the
    password is checked (failing open gave unlimited guesses from many addresses)."""
    settings.CACHES = {
        **settings.CACHES,
        "unreachable": {
            "BACKEND": "portal.redis_cache.RedisCache",
            "LOCATION": "redis://127.0.0.1:1/0",  # nothing listens on port 1
            "OPTIONS": {"socket_connect_timeout": 0.5, "socket_timeout": 0.5},
        },
    }
    settings.RATE_LIMIT_CACHE = "unreachable"
    settings.RATE_LIMIT_FAIL_CLOSED = frozenset()
    response = _sign_in(client, "alice@example.com", PASSWORD)
    assert response.status_code == 503
    assert "Signing in is unavailable for a moment." in response.content.decode()
    assert "_auth_user_id" not in client.session
    assert not AuditEvent.objects.filter(action__startswith="login.").exists()
