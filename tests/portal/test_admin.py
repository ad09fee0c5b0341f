import pytest
from django.urls import reverse

from accounts.models import Account
from tests.factories import UserFactory
from tests.twofactor import force_login_verified
from transactions.models import Entry, Transaction


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_it_lists_the_ledger_and_shows_entries_inline(client, staff, alice_savings):
    force_login_verified(client, staff)
    txn = Transaction.objects.get()
    assert client.get(reverse("admin:transactions_transaction_changelist")).status_code == 200
    page = client.get(reverse("admin:transactions_transaction_change", args=[txn.pk]))
    assert page.status_code == 200
    assert "₹50,000.00" in page.content.decode()


def test_it_refuses_to_add_change_or_delete_ledger_rows(client, staff, alice_savings):
    force_login_verified(client, staff)
    txn = Transaction.objects.get()
    assert client.get(reverse("admin:transactions_transaction_add")).status_code == 403
    assert client.get(reverse("admin:transactions_transaction_delete", args=[txn.pk])).status_code == 403
    page = client.post(
        reverse("admin:transactions_transaction_change", args=[txn.pk]), {"description": "edited"}
    )
    assert page.status_code == 403
    txn.refresh_from_db()
    assert txn.description == "Opening deposit"
    assert Entry.objects.count() == 2


def test_it_never_lets_staff_edit_a_balance_or_delete_an_account(client, staff, alice_savings):
    force_login_verified(client, staff)
    url = reverse("admin:accounts_account_change", args=[alice_savings.pk])
    form = client.get(url).context["adminform"].form
    assert "balance" not in form.fields
    assert "overdraft_limit" not in form.fields
    client.post(
        url, {"name": "Renamed", "status": "frozen", "opened_on": "2026-01-01", "balance": "99999999"}
    )
    alice_savings.refresh_from_db()
    assert alice_savings.balance == 50_000_00
    assert alice_savings.name == "Renamed"
    assert alice_savings.status == Account.Status.FROZEN
    delete = reverse("admin:accounts_account_delete", args=[alice_savings.pk])
    assert client.post(delete, {"post": "yes"}).status_code == 403
    assert Account.objects.filter(pk=alice_savings.pk).exists()


def test_it_keeps_customers_out_of_the_admin(client, alice):
    client.force_login(alice)
    response = client.get(reverse("admin:index"))
    assert response.status_code == 302


def test_staff_see_a_customers_sign_ins_and_cannot_edit_them(client, staff, alice):
    from django.test import Client

    from tests.factories import PASSWORD

    Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile Safari/537.36").post(
        reverse("login"), {"username": alice.email, "password": PASSWORD}
    )
    force_login_verified(client, staff)
    page = client.get(reverse("admin:accounts_usersession_changelist"), {"q": alice.email})
    assert page.status_code == 200
    assert "Chrome on Android" in page.content.decode()
    (sign_in,) = alice.sessions.all()
    assert client.get(reverse("admin:accounts_usersession_add")).status_code == 403
    assert client.get(reverse("admin:accounts_usersession_delete", args=[sign_in.pk])).status_code == 403
    client.post(reverse("admin:accounts_usersession_change", args=[sign_in.pk]), {"ip": "203.0.113.1"})
    sign_in.refresh_from_db()
    assert sign_in.ip != "203.0.113.1"
