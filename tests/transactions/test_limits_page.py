"""The limits page (/security/limits/): the customer's own lower limits on money sent to others. Lowering
saves at once; a raise asks for a step-up bound to the new values, then applies 12 hours later."""

import datetime

import pytest
import time_machine
from django.core import mail
from django.urls import reverse

from accounts.tasks import notification_send_task
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import PASSWORD, PayeeFactory
from tests.twofactor import code_now, enrol
from transactions import services
from transactions.models import TransferLimits

pytestmark = pytest.mark.django_db

LIMITS = reverse("limits")
NOON = datetime.datetime(2026, 12, 5, 20, 30, tzinfo=datetime.UTC)  # 6 Dec, 2:00 AM in India


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def _row(user) -> TransferLimits | None:
    return TransferLimits.objects.filter(user=user).first()


def _own(user) -> tuple:
    row = _row(user)
    if row is None:
        return (None, None, None, None, None)
    return (
        row.own_daily_paise,
        row.own_per_transfer_paise,
        row.pending_daily_paise,
        row.pending_per_transfer_paise,
        row.pending_from,
    )


def test_anonymous_is_sent_to_sign_in(client):
    response = client.get(LIMITS)
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))
    assert client.post(LIMITS, {"daily": "1000"})["Location"].startswith(reverse("login"))


def test_it_shows_todays_limits_and_what_is_left(signed_in, alice, alice_savings):
    fund(alice_savings, 5_00_000_00)
    services.payee_transfer_create(
        initiator=alice,
        source=alice_savings,
        payee=PayeeFactory(owner=alice),
        amount_paise=1_20_000_00,
        description="",
        idempotency_key="k1",
    )
    page = signed_in.get(LIMITS).content.decode()
    assert "₹5,00,000.00" in page and "₹3,80,000.00" in page and "₹2,00,000.00" in page
    assert "The bank&#x27;s daily limit" not in page  # no error drawn
    security = signed_in.get(reverse("security")).content.decode()
    assert "₹3,80,000.00" in security and f'href="{LIMITS}"' in security


@pytest.mark.parametrize(
    ("daily", "error"),
    [
        ("abc", "Enter an amount in rupees"),
        ("-500", "Enter an amount greater than zero."),
        ("100.005", "at most two digits after the decimal point"),
        ("5,00,000.01", "The bank&#x27;s daily limit for you is ₹5,00,000.00"),
    ],
)
def test_bad_input_is_a_form_error_and_changes_nothing(signed_in, alice, daily, error):
    response = signed_in.post(LIMITS, {"daily": daily, "per_transfer": ""})
    assert response.status_code == 200
    assert error in response.content.decode()
    assert _own(alice) == (None, None, None, None, None)
    assert not AuditEvent.objects.filter(action="limit.change").exists()


def test_lowering_needs_no_step_up_and_applies_now(signed_in, alice, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks() as callbacks:
        response = signed_in.post(LIMITS, {"daily": "50,000", "per_transfer": "10000.50"})
    assert response.status_code == 302 and response["Location"] == LIMITS
    assert _own(alice) == (50_000_00, 10_000_50, None, None, None)
    page = signed_in.get(LIMITS).content.decode()
    assert "Your new limits apply now." in page
    assert "₹50,000.00" in page and "(set by you)" in page
    event = AuditEvent.objects.get(action="limit.change")
    assert event.actor == alice and event.after["own_daily_paise"] == 50_000_00
    (queued,) = callbacks
    notification_send_task(*queued.args)
    assert mail.outbox[0].to == [alice.email] and "₹10,000.50" in mail.outbox[0].body


def test_a_raise_moves_nothing_without_a_step_up_then_applies_in_twelve_hours(signed_in, alice):
    device = enrol(alice)
    services.transfer_limits_set(user=alice, daily_paise=50_000_00, per_transfer_paise=None)
    with time_machine.travel(NOON, tick=False):
        asked = signed_in.post(LIMITS, {"daily": "1,00,000", "per_transfer": ""})
        assert asked.status_code == 302
        assert asked["Location"].startswith(reverse("step_up") + "?action=limits.change")
        assert _own(alice) == (50_000_00, None, None, None, None)
        step_up_page = signed_in.get(asked["Location"]).content.decode()
        assert "change your limits" in step_up_page and "₹1,00,000.00" in step_up_page

        proved = signed_in.post(asked["Location"], {"code": code_now(device)})
        assert proved["Location"] == f"{LIMITS}?daily=10000000&per_transfer="
        confirm = signed_in.get(proved["Location"]).content.decode()
        assert "You confirmed it" in confirm and 'value="1,00,000.00"' in confirm
        assert _own(alice) == (50_000_00, None, None, None, None)  # GET changes nothing

        saved = signed_in.post(LIMITS, {"daily": "1,00,000.00", "per_transfer": ""})
        assert saved["Location"] == LIMITS
        later = NOON + datetime.timedelta(hours=12)
        assert _own(alice) == (50_000_00, None, 1_00_000_00, None, later)
        page = signed_in.get(LIMITS).content.decode()
        assert "Your new limit applies from 6 Dec 2026, 2:00 PM IST." in page
        assert "A higher limit applies from 6 Dec 2026, 2:00 PM IST" in page
        assert "A higher limit applies from" in signed_in.get(reverse("security")).content.decode()
    assert AuditEvent.objects.filter(action="limit.change").count() == 2


def test_a_proof_for_other_values_does_not_raise(signed_in, alice):
    services.transfer_limits_set(user=alice, daily_paise=50_000_00, per_transfer_paise=None)
    asked = signed_in.post(LIMITS, {"daily": "60000", "per_transfer": ""})
    signed_in.post(asked["Location"], {"password": PASSWORD})  # no 2FA: the password is the proof
    other = signed_in.post(LIMITS, {"daily": "4,00,000", "per_transfer": ""})
    assert other["Location"].startswith(reverse("step_up"))
    assert _own(alice) == (50_000_00, None, None, None, None)
    # Offering the proof to other values spent it: the first raise asks again too.
    assert signed_in.post(LIMITS, {"daily": "60000", "per_transfer": ""})["Location"].startswith(
        reverse("step_up")
    )
    assert _own(alice) == (50_000_00, None, None, None, None)


def test_a_confirmation_page_for_values_not_proved_is_the_plain_form(signed_in, alice):
    page = signed_in.get(f"{LIMITS}?daily=10000000&per_transfer=").content.decode()
    assert "You confirmed it" not in page
    assert signed_in.get(f"{LIMITS}?daily=abc").status_code == 200


def test_the_form_is_prefilled_with_indian_grouping_and_saving_it_as_is_changes_nothing(signed_in, alice):
    services.transfer_limits_set(user=alice, daily_paise=2_00_000_00, per_transfer_paise=50_000_50)
    page = signed_in.get(LIMITS).content.decode()
    assert "Set your own limits" in page and "lower limits</h2>" not in page
    assert 'value="2,00,000.00"' in page and 'value="50,000.50"' in page
    saved = signed_in.post(LIMITS, {"daily": "2,00,000.00", "per_transfer": "50,000.50"})
    assert saved.status_code in (302, 303) and saved["Location"] == LIMITS
    assert _own(alice) == (2_00_000_00, 50_000_50, None, None, None)


def test_it_refuses_other_methods(signed_in):
    assert signed_in.put(LIMITS).status_code == 405
