import datetime

from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account
from portal.local_time import date_and_time
from tests.conftest import fund, spend
from tests.factories import AccountFactory, UserFactory
from transactions import services


def test_it_redirects_anonymous_to_login(client):
    response = client.get(reverse("dashboard"))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("login"))


def test_it_shows_each_account_with_its_balance_in_indian_format(client, alice):
    fund(AccountFactory(owner=alice, name="Salary savings"), 1_23_456_78)
    AccountFactory(owner=alice, name="Everyday current", kind=Account.Kind.CURRENT)
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Salary savings" in body and "Everyday current" in body
    assert "₹1,23,456.78" in body
    assert "₹0.00" in body


def test_it_shows_only_the_last_five_transactions_newest_first(client, alice, alice_savings):
    spend(alice_savings, 8)
    client.force_login(alice)
    account = client.get(reverse("dashboard")).context["accounts"][0]
    # The opening deposit was posted first: the payments are dated after it (history is posted in order).
    assert [e.txn_description for e in account.recent] == [f"Chai {i}" for i in (7, 6, 5, 4, 3)]


def test_it_never_shows_another_customers_accounts(client, alice, alice_savings, bob_savings):
    bob_savings.name = "Bob's secret stash"
    bob_savings.save(update_fields=["name"])
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Bob&#x27;s secret stash" not in body and "secret stash" not in body
    assert bob_savings.masked_number not in body


def test_it_costs_the_same_queries_whatever_the_history_length(client, alice, django_assert_num_queries):
    short, long_ = fund(AccountFactory(owner=alice), 10_000_00), fund(AccountFactory(owner=alice), 10_000_00)
    spend(short, 1)
    client.force_login(alice)
    with django_assert_num_queries(3) as small:
        client.get(reverse("dashboard"))
    spend(long_, 60)
    other = UserFactory()
    for _ in range(3):
        spend(fund(AccountFactory(owner=other), 1_000_00), 5)
    with django_assert_num_queries(len(small.captured_queries)):
        client.get(reverse("dashboard"))


def test_it_shows_the_previous_login_time(client, alice):
    earlier = timezone.now() - datetime.timedelta(days=3)
    alice.last_login = earlier
    alice.save(update_fields=["last_login"])
    client.post(
        reverse("login"), {"username": "alice@example.com", "password": "correct-horse-battery-staple"}
    )
    alice.refresh_from_db()
    assert alice.previous_login == earlier
    body = client.get(reverse("dashboard")).content.decode()
    assert f"Your previous sign-in was on {date_and_time(earlier)}." in body


def test_it_reads_recent_entries_only_when_the_ledger_changed(client, alice, alice_savings, alice_current):
    client.force_login(alice)
    client.get(reverse("dashboard"))
    with CaptureQueriesContext(connection) as cached:
        client.get(reverse("dashboard"))
    assert not any("transactions_entry" in q["sql"] for q in cached.captured_queries)

    services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=12_34,
        description="Cache buster",
        idempotency_key="fresh",
    )
    body = client.get(reverse("dashboard")).content.decode()
    assert "Cache buster" in body
    assert "₹12.34" in body


def test_it_redraws_an_account_card_when_staff_freeze_the_account(client, alice, alice_savings):
    client.force_login(alice)
    assert "Frozen" not in client.get(reverse("dashboard")).content.decode()
    Account.objects.filter(pk=alice_savings.pk).update(status=Account.Status.FROZEN)
    assert "Frozen" in client.get(reverse("dashboard")).content.decode()


def test_it_says_a_frozen_account_is_frozen_and_what_to_do(client, alice, alice_savings, settings):
    settings.BANK_PHONE = "1800 123 4567"
    alice_savings.status = Account.Status.FROZEN
    alice_savings.save(update_fields=["status"])
    AccountFactory(owner=alice, name="Everyday current", kind=Account.Kind.CURRENT)
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert f"(ending {alice_savings.number[-4:]}) is frozen" in body
    assert "1800 123 4567" in body
    assert f'href="{reverse("security")}">check your sign-ins and devices' in body


def test_it_shows_no_frozen_banner_for_active_accounts(client, alice, alice_savings):
    client.force_login(alice)
    assert "is frozen" not in client.get(reverse("dashboard")).content.decode()


def _move_money_links(body: str) -> int:
    return body.count(f'href="{reverse("transfer_new")}"')


def test_it_offers_move_money_with_two_accounts(client, alice, alice_savings):
    AccountFactory(owner=alice, name="Everyday current", kind=Account.Kind.CURRENT)
    client.force_login(alice)
    # The hero, and the tab in the main navigation (drawn twice, shown once: header or tab bar, base.html).
    assert _move_money_links(client.get(reverse("dashboard")).content.decode()) == 3


def test_it_offers_no_move_money_with_one_account_and_says_why(client, alice, alice_savings):
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert _move_money_links(body) == 0
    assert "Moving money needs a second account" in body
    # Nor does any other page's tab bar, once the dashboard has seen the accounts.
    assert _move_money_links(client.get(reverse("security")).content.decode()) == 0


def test_it_offers_no_move_money_without_accounts_and_says_what_to_do(client, alice):
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert _move_money_links(body) == 0
    assert "You have no open accounts yet. To open one, call us on" in body


def test_it_offers_no_move_money_when_every_account_is_frozen(client, alice, alice_savings):
    frozen = AccountFactory(owner=alice, status=Account.Status.FROZEN)
    alice_savings.status = Account.Status.FROZEN
    alice_savings.save(update_fields=["status"])
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert _move_money_links(body) == 0
    assert "No money can be moved while your accounts are frozen" in body
    assert frozen.name in body


def test_a_description_and_counterparty_that_may_be_cut_carry_their_whole_text(client, alice, alice_savings):
    """A phone cuts a 25-character shop name to one line: every clamped text has its whole text in a title."""
    services.payment_create(
        account=alice_savings,
        amount_paise=250_00,
        description="Groceries for the week",
        counterparty="Sri Venkateshwara Stores",
        idempotency_key="shop-1",
    )
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert 'title="Groceries for the week"' in body
    assert 'title="Sri Venkateshwara Stores"' in body


def test_it_gives_the_previous_sign_in_in_the_sites_format_with_ist(client, alice):
    alice.previous_login = datetime.datetime(2026, 12, 5, 23, 47, tzinfo=datetime.UTC)
    alice.save(update_fields=["previous_login"])
    client.force_login(alice)
    body = client.get(reverse("dashboard")).content.decode()
    assert "Your previous sign-in was on 6 Dec 2026, 5:17 AM IST." in body
