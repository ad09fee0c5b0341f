"""The admin as the bank's staff see it: branded as the back office, reached straight from sign-in, a ledger
list in masked account numbers and rupees, searchable by the reference customers quote, Indian dates."""

import pytest
from django.urls import reverse

from tests.factories import PASSWORD, UserFactory
from tests.twofactor import code_now, enrol, force_login_verified


@pytest.fixture
def staff(db):
    return UserFactory(email="staff@example.com", is_staff=True, is_superuser=True)


def test_it_is_branded_as_the_banks_back_office(client, staff):
    force_login_verified(client, staff)
    page = client.get(reverse("admin:index")).content.decode()
    assert "<title>Customers, accounts and the ledger | SecureBank back office</title>" in page
    assert "SecureBank back office" in page.split("</header>")[0]
    assert "Django administration" not in page


def test_staff_signing_in_land_in_the_admin(client, staff):
    device = enrol(staff)
    response = client.post(reverse("login"), {"username": staff.email, "password": PASSWORD})
    assert response["Location"] == reverse("login_verify")
    response = client.post(reverse("login_verify"), {"code": code_now(device)})
    assert response["Location"] == reverse("admin:index")
    assert client.get(reverse("admin:index")).status_code == 200


def test_staff_without_a_second_factor_land_on_the_admins_turn_on_2fa_page(client, staff):
    response = client.post(reverse("login"), {"username": staff.email, "password": PASSWORD}, follow=True)
    assert response.redirect_chain == [
        (reverse("admin:index"), 302),
        (reverse("admin:login") + "?next=/admin/", 302),
    ]
    assert response.status_code == 403
    assert response.templates[0].name == "accounts/admin_two_factor_required.html"


def test_staff_signing_in_with_next_go_there(client, staff):
    next_url = reverse("security")
    response = client.post(
        reverse("login") + f"?next={next_url}",
        {"username": staff.email, "password": PASSWORD, "next": next_url},
    )
    assert response["Location"] == next_url


def test_customers_signing_in_still_land_on_their_dashboard(client, alice):
    response = client.post(reverse("login"), {"username": alice.email, "password": PASSWORD})
    assert response["Location"] == reverse("dashboard")


def test_the_ledger_list_shows_masked_accounts_and_rupees(client, staff, alice_savings, alice_current):
    from transactions import services

    force_login_verified(client, staff)
    txn = services.transfer_create(
        initiator=alice_savings.owner,
        source=alice_savings,
        destination=alice_current,
        amount_paise=1_234_56,
        description="Rent",
        idempotency_key="k1",
    )
    page = client.get(reverse("admin:transactions_transaction_changelist")).content.decode()
    assert f"SB{txn.pk:010d}" in page
    assert "₹1,234.56" in page
    assert f"Savings {alice_savings.masked_number}" in page
    assert f"Current {alice_current.masked_number}" in page
    assert alice_savings.number not in page and alice_current.number not in page

    entries = client.get(reverse("admin:transactions_entry_changelist")).content.decode()
    assert "-₹1,234.56" in entries and f"SB{txn.pk:010d}" in entries
    assert alice_savings.number not in entries

    detail = client.get(reverse("admin:transactions_transaction_change", args=[txn.pk])).content.decode()
    assert alice_savings.number not in detail and "-123456" not in detail


@pytest.mark.parametrize("typed", ["SB{:010d}", "sb{:d}", " SB{:010d} "])
def test_the_reference_a_customer_quotes_finds_its_transaction(client, staff, alice_savings, typed):
    from transactions.models import Transaction

    force_login_verified(client, staff)
    (opening,) = Transaction.objects.all()
    response = client.get(
        reverse("admin:transactions_transaction_changelist"), {"q": typed.format(opening.pk)}
    )
    assert list(response.context["cl"].result_list) == [opening]
    entries = client.get(reverse("admin:transactions_entry_changelist"), {"q": typed.format(opening.pk)})
    assert {e.transaction_id for e in entries.context["cl"].result_list} == {opening.pk}


def test_a_search_that_is_not_a_reference_searches_the_notes(client, staff, alice_savings):
    force_login_verified(client, staff)
    response = client.get(reverse("admin:transactions_transaction_changelist"), {"q": "Opening"})
    assert len(response.context["cl"].result_list) == 1
    response = client.get(reverse("admin:transactions_transaction_changelist"), {"q": "SB99"})
    assert len(response.context["cl"].result_list) == 0


def test_dates_are_written_the_indian_way(client, staff, alice):
    import datetime

    from django.utils import formats, timezone

    ist = timezone.get_default_timezone()
    moment = datetime.datetime(2026, 12, 1, 20, 53, tzinfo=ist)
    assert formats.date_format(moment, "DATETIME_FORMAT") == "1 Dec 2026, 8:53 PM"
    assert formats.date_format(moment.date()) == "1 Dec 2026"
    assert formats.date_format(moment, "SHORT_DATE_FORMAT") == "01/12/2026"
    assert formats.get_format("DATE_INPUT_FORMATS")[0] == "%Y-%m-%d"  # the admin's widgets and filters

    alice.last_login = moment
    alice.save(update_fields=["last_login"])
    force_login_verified(client, staff)
    page = client.get(reverse("admin:accounts_user_changelist"), {"q": alice.email}).content.decode()
    assert "1 Dec 2026, 8:53 PM" in page
    assert "p.m." not in page


@pytest.mark.parametrize(
    "url", ["admin:transactions_entry_changelist", "admin:transactions_transaction_changelist"]
)
def test_a_ledger_list_does_not_count_the_whole_ledger(client, staff, alice_savings, url, monkeypatch):
    """An unfiltered page of a large table takes PostgreSQL's estimate of its rows, not a COUNT(*) over
    millions of entries (the estimate's threshold is lowered here to the test's few rows)."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from portal import admin_paging

    with connection.cursor() as cursor:
        cursor.execute("ANALYZE transactions_entry; ANALYZE transactions_transaction")
    monkeypatch.setattr(admin_paging, "EXACT_BELOW", 1)
    force_login_verified(client, staff)

    with CaptureQueriesContext(connection) as queries:
        page = client.get(reverse(url))

    assert page.status_code == 200
    counts = [q["sql"] for q in queries if "COUNT(" in q["sql"].upper()]
    assert counts == []
    # A search is counted exactly.
    assert client.get(reverse(url), {"q": alice_savings.number}).status_code == 200
