"""Staff set a customer's bank limits on money sent to others in the admin: in rupees, audited, saved with
update_fields; the customer's own limits are shown, not edited."""

import pytest
from django.urls import reverse

from portal.models import AuditEvent
from tests.factories import UserFactory
from tests.twofactor import force_login_verified
from transactions import services
from transactions.models import TransferLimits

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


@pytest.fixture
def limits(alice):
    services.transfer_limits_set(user=alice, daily_paise=40_000_00, per_transfer_paise=None)
    return TransferLimits.objects.get(user=alice)


def test_staff_find_a_customer_by_email_and_read_amounts_in_rupees(client, staff, limits, bob):
    TransferLimits.objects.create(user=bob, per_transfer_paise=3_00_000_00)
    force_login_verified(client, staff)
    url = reverse("admin:transactions_transferlimits_changelist")
    page = client.get(url, {"q": "alice@"}).content.decode()
    assert "alice@example.com" in page and "bob@example.com" not in page
    assert "₹5,00,000.00 (default)" in page and "₹40,000.00 a day" in page
    assert "₹3,00,000.00" in client.get(url, {"q": "bob"}).content.decode()


def test_staff_set_the_banks_limits_audited_and_the_customers_own_stay(client, staff, limits, alice):
    force_login_verified(client, staff)
    url = reverse("admin:transactions_transferlimits_change", args=[alice.pk])
    page = client.get(url).content.decode()
    assert "₹40,000.00 a day, none a transfer" in page
    response = client.post(
        url,
        {"daily_paise": "7,50,000", "per_transfer_paise": "250000.50", "own_daily_paise": "1"},
    )
    assert response.status_code == 302, response.content.decode()
    limits.refresh_from_db()
    assert (limits.daily_paise, limits.per_transfer_paise) == (7_50_000_00, 2_50_000_50)
    assert limits.own_daily_paise == 40_000_00  # not a field of the form
    event = AuditEvent.objects.get(action="admin.change")
    assert event.actor == staff
    assert event.before == {"daily_paise": None, "per_transfer_paise": None}
    assert event.after == {"daily_paise": 7_50_000_00, "per_transfer_paise": 2_50_000_50}


def test_bad_amounts_are_form_errors_and_change_nothing(client, staff, limits, alice):
    force_login_verified(client, staff)
    url = reverse("admin:transactions_transferlimits_change", args=[alice.pk])
    for bad in ("abc", "-5", "1.001"):
        response = client.post(url, {"daily_paise": bad, "per_transfer_paise": ""})
        assert response.status_code == 200
        assert response.context["adminform"].form.errors["daily_paise"]
    limits.refresh_from_db()
    assert limits.daily_paise is None
    assert not AuditEvent.objects.filter(action="admin.change").exists()


def test_staff_may_not_delete_a_customers_limits(client, staff, limits, alice):
    force_login_verified(client, staff)
    url = reverse("admin:transactions_transferlimits_delete", args=[alice.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert TransferLimits.objects.filter(user=alice).exists()
