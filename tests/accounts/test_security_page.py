"""The security page (/security/) and "sign out everywhere else"."""

import datetime
import re

from django.conf import settings
from django.db import connection
from django.test import Client, RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import devices
from accounts.models import UserSession
from accounts.tasks import session_registry_prune_task
from portal.audit import audit_record
from portal.models import AuditEvent
from tests.factories import PASSWORD

ANDROID_CHROME = (
    "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Mobile Safari/537.36"
)
IPHONE_SAFARI = (
    "Mozilla/5.0 (iPhone; CPU iPhone OS 17_5 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.5 Mobile/15E148 Safari/604.1"
)


def _signed_in(user, *, user_agent: str = ANDROID_CHROME, ip: str = "203.0.113.7") -> Client:
    client = Client(HTTP_USER_AGENT=user_agent, REMOTE_ADDR=ip)
    response = client.post(reverse("login"), {"username": user.email, "password": PASSWORD})
    assert response.status_code == 302
    return client


def test_it_lists_sign_ins_and_sessions_with_this_one_marked(alice):
    _signed_in(alice, user_agent=IPHONE_SAFARI, ip="198.51.100.4")
    client = _signed_in(alice)

    page = client.get(reverse("security")).content.decode()

    assert "<h1>Security</h1>" in page
    assert "Chrome on Android" in page and "203.0.113.7" in page
    assert "Safari on iPhone" in page and "198.51.100.4" in page
    assert page.count("This device</span>") == 1
    assert "payee and limit changes" not in page  # no card until there is a change (payees do not exist yet)
    assert 'href="/security/2fa/"' in page and 'href="/security/password/"' in page
    assert reverse("report_compromise") in page


def test_it_links_the_page_from_the_main_navigation(client, alice):
    client.force_login(alice)
    page = client.get(reverse("security")).content.decode()
    link = re.search(r'<a href="/security/" aria-current="page">.*?</a>', page, re.S)
    assert link and "<span>Security</span>" in link.group(0)


def test_it_shows_only_this_customers_payee_and_limit_changes(client, alice, bob):
    audit_record(action="payee.add", actor=alice, object_type="accounts.payee", object_id="1")
    audit_record(action="limit.change", actor=alice, object_type="accounts.account", object_id="2")
    audit_record(action="payee.add", actor=bob, object_type="accounts.payee", object_id="3")
    audit_record(action="login.success", actor=alice)
    client.force_login(alice)

    response = client.get(reverse("security"))
    changes = list(response.context["changes"])

    assert [e.action for e in changes] == ["limit.change", "payee.add"]
    assert "Recent payee and limit changes" in response.content.decode()


def test_a_change_says_what_changed_from_the_events_before_and_after(client, alice):
    import datetime

    import time_machine

    from accounts.services import payee_rename
    from tests.factories import PayeeFactory
    from transactions.services import transfer_limits_set

    at = datetime.datetime(2026, 12, 5, 20, 30, 20, tzinfo=datetime.UTC)  # 6 Dec, 2:00:20 AM IST
    with time_machine.travel(at - datetime.timedelta(minutes=5), tick=False):
        payee = PayeeFactory(owner=alice, name="Ravi")
        payee_rename(owner=alice, payee_id=payee.pk, name="Ravi Kumar")
    with time_machine.travel(at - datetime.timedelta(minutes=1), tick=False):
        transfer_limits_set(user=alice, daily_paise=2_00_000_00, per_transfer_paise=None)
    with time_machine.travel(at, tick=False):
        transfer_limits_set(
            user=alice, daily_paise=3_00_000_00, per_transfer_paise=None, raise_confirmed=True
        )
    client.force_login(alice)
    labels = [change.label for change in client.get(reverse("security")).context["changes"]]
    assert labels[:3] == [
        "Limit changed: daily ₹2,00,000.00 → ₹3,00,000.00 from 6 Dec 2026, 2:01 PM IST",
        "Limit changed: daily the bank's limit → ₹2,00,000.00",
        "Payee renamed: Ravi → Ravi Kumar",
    ]


def test_it_costs_the_same_queries_however_many_sign_ins(alice, settings):
    # Fourteen real sign-ins from one address and email within a minute: above the sign-in rate limits.
    settings.RATE_LIMITS = {**settings.RATE_LIMITS, "login_ip": (100, 60), "login_email": (100, 60)}

    def count() -> int:
        client = _signed_in(alice)
        with CaptureQueriesContext(connection) as queries:
            assert client.get(reverse("security")).status_code == 200
        return len(queries)

    few = count()
    for _ in range(12):
        _signed_in(alice)
        audit_record(action="payee.add", actor=alice, object_type="accounts.payee", object_id="1")
        audit_record(action="login.failure", after={"email": alice.email})
        audit_record(action="login.otp_failure", actor=alice)
    assert count() == few
    # user, sign-ins, failed attempts, sessions, changes, 2FA app (+ backup codes when 2FA is on; + the
    # once-a-minute registry write, not here)
    assert few <= 7


def test_it_sends_anonymous_visitors_to_login(client):
    response = client.get(reverse("security"))
    assert response.status_code == 302
    assert response["Location"] == "/login/?next=/security/"


def test_it_refuses_a_post_to_the_page(client, alice):
    client.force_login(alice)
    assert client.post(reverse("security")).status_code == 405


def test_sign_out_everywhere_ends_other_devices_and_keeps_this_one(alice, bob):
    phone = _signed_in(alice, user_agent=IPHONE_SAFARI)
    laptop = _signed_in(alice)
    bobs = _signed_in(bob)
    key_before = laptop.session.session_key

    response = laptop.post(reverse("sign_out_everywhere"), follow=True)

    assert response.status_code == 200
    assert "signed out everywhere else (1 other device)" in response.content.decode()
    assert laptop.get(reverse("dashboard")).status_code == 200
    assert laptop.session.session_key != key_before  # a privilege change gets a new key
    assert phone.get(reverse("dashboard")).status_code == 302
    assert bobs.get(reverse("dashboard")).status_code == 200  # another customer is untouched
    event = AuditEvent.objects.get(action="session.revoke_all")
    assert event.actor == alice and event.after == {"devices_signed_out": 1, "kept_current": True}
    assert UserSession.objects.filter(user=alice, end_reason="revoked").count() == 1
    page = laptop.get(reverse("security")).content.decode()
    assert "Safari on iPhone" not in page.split("Recent sign-ins")[0]  # gone from the open sessions


def test_sign_out_everywhere_ends_even_a_session_the_registry_missed(alice):
    phone = _signed_in(alice)
    laptop = _signed_in(alice)
    UserSession.objects.filter(user=alice).delete()

    laptop.post(reverse("sign_out_everywhere"))

    assert phone.get(reverse("dashboard")).status_code == 302
    assert laptop.get(reverse("dashboard")).status_code == 200


def test_sign_out_everywhere_is_post_only_and_needs_a_sign_in(client, alice):
    assert client.post(reverse("sign_out_everywhere"))["Location"].startswith("/login/")
    client.force_login(alice)
    assert client.get(reverse("sign_out_everywhere")).status_code == 405


def test_logout_closes_the_sessions_registry_row(alice):
    client = _signed_in(alice)
    client.post(reverse("logout"))
    assert UserSession.objects.get(user=alice).end_reason == "logout"


def test_the_registry_forgets_sign_ins_older_than_180_days(alice, settings):
    old = _signed_in(alice)
    UserSession.objects.filter(user=alice).update(created_at=timezone.now() - datetime.timedelta(days=181))
    _signed_in(alice)

    assert session_registry_prune_task() == 1
    assert session_registry_prune_task() == 0
    assert UserSession.objects.filter(user=alice).count() == 1
    assert "session-registry-prune" in settings.CELERY_BEAT_SCHEDULE
    assert old.get(reverse("dashboard")).status_code == 200  # forgetting is not signing out


def _device_id(client: Client) -> str:
    """The device id inside the signed cookie (the signature carries a timestamp, so the raw value changes
    from one second to the next even when the id does not)."""
    request = RequestFactory().get("/")
    request.COOKIES[settings.DEVICE_COOKIE_NAME] = client.cookies[settings.DEVICE_COOKIE_NAME].value
    return devices.device_id(request)


def test_a_sign_in_renews_the_device_cookie(alice):
    client = _signed_in(alice)
    device = _device_id(client)
    assert device  # a valid signature: a None here and after would compare equal
    client.post(reverse("logout"))
    client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert _device_id(client) == device
    assert client.cookies["sb_device"]["max-age"] == 400 * 24 * 60 * 60
    assert client.cookies["sb_device"]["httponly"]


def test_it_marks_failed_sign_ins_and_wrong_codes_among_the_sign_ins(alice, bob):
    from tests.twofactor import enrol

    Client(HTTP_USER_AGENT=IPHONE_SAFARI, REMOTE_ADDR="198.51.100.9").post(
        reverse("login"), {"username": "Alice@Example.com", "password": "not-her-password"}
    )
    Client().post(reverse("login"), {"username": bob.email, "password": "not-his-password"})
    enrol(alice)
    guesser = Client(HTTP_USER_AGENT=ANDROID_CHROME, REMOTE_ADDR="203.0.113.50")
    guesser.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    guesser.post(reverse("login_verify"), {"code": "000000"})
    client = Client()
    client.force_login(alice)

    response = client.get(reverse("security"))

    rows = [(row.failure, row.device, row.ip) for row in response.context["sign_ins"]]
    assert rows[0] == ("", "Unknown device", None)  # this sign-in (force_login)
    assert rows[1:] == [
        ("Wrong code", "Chrome on Android", "203.0.113.50"),
        ("Wrong password", "Safari on iPhone", "198.51.100.9"),
    ]
    page = response.content.decode()
    assert page.count('<tr class="attempt-failed">') == 2
    assert '<span class="badge badge-warning">Wrong password</span>' in page
    assert '<td data-label="Device" class="user-text">Safari on iPhone</td>' in page  # a phone's label


def test_it_lists_sign_ins_and_failures_together_newest_first(alice):
    _signed_in(alice, ip="203.0.113.1")
    Client(REMOTE_ADDR="203.0.113.2").post(reverse("login"), {"username": alice.email, "password": "wrong"})
    client = _signed_in(alice, ip="203.0.113.3")
    rows = client.get(reverse("security")).context["sign_ins"]
    assert [(row.ip, row.failure) for row in rows] == [
        ("203.0.113.3", ""),
        ("203.0.113.2", "Wrong password"),
        ("203.0.113.1", ""),
    ]


def test_it_marks_failed_sign_ins_of_an_email_saved_with_capitals(alice):
    """Staff may save an email with capitals; the sign-in form lower-cases what is typed."""
    from accounts.models import User

    User.objects.filter(pk=alice.pk).update(email="Alice@Example.com")
    Client().post(reverse("login"), {"username": "alice@example.com", "password": "not-her-password"})
    client = Client()
    client.force_login(User.objects.get(pk=alice.pk))

    rows = client.get(reverse("security")).context["sign_ins"]

    assert [row.failure for row in rows if row.failure] == ["Wrong password"]
