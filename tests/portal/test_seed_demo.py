"""seed_demo: three customers with a year of banking that keeps every rule of the ledger, and never a
published password on a staff user outside the embedded default.

Loading the year takes seconds, so the module loads it once, on a fixed day, inside a database
transaction that is rolled back at the end; each test runs in a savepoint inside it (pytest-django's `db`).
It loads as the bench does: DEBUG off (as in the suite), told explicitly with --allow-production.
"""

import dataclasses
import datetime
import subprocess
import sys
from collections.abc import Iterator
from io import StringIO

import pytest
import time_machine
from django.conf import settings as django_settings
from django.contrib.auth.password_validation import validate_password
from django.core.management import call_command
from django.db import connection, transaction
from django.db.models import Count, Q, Sum
from django.db.models.functions import Coalesce, TruncMonth
from django.test import override_settings
from django.utils import timezone
from hypothesis import given, settings
from hypothesis import strategies as st

from accounts.models import Account, User
from portal.seeding import demo
from portal.seeding.demo_load import load_customer
from transactions.categories import CATEGORIES
from transactions.history.filters import effective_category
from transactions.insights import rollup
from transactions.insights.defaults import DEFAULT_RULES
from transactions.insights.models import CategoryRule, EntryCategory, RollupState
from transactions.models import Entry, PostingAlert, Transaction

ANCHOR = datetime.date(2026, 3, 5)
NOW = datetime.datetime(2026, 3, 5, 11, 30, tzinfo=demo.IST)
BASE_DIR = django_settings.BASE_DIR


@pytest.fixture(scope="module")
def seeded(django_db_setup, django_db_blocker) -> Iterator[str]:
    """The command's output after loading the demo on ANCHOR (with the suite's fast password hasher, which
    conftest sets only for each test)."""
    out = StringIO()
    fast_hashing = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    with django_db_blocker.unblock(), transaction.atomic(), time_machine.travel(NOW, tick=True), fast_hashing:
        call_command("seed_demo", "--allow-production", stdout=out)
        # Fire PostgreSQL's deferred ledger triggers now, as a COMMIT would: they check that every
        # transaction balances. Left pending, they would fire again in every test's teardown.
        connection.check_constraints()
        yield out.getvalue()
        transaction.set_rollback(True)


@pytest.fixture
def demo_db(seeded, db) -> str:
    return seeded


def _customer_transactions(customer: demo.Customer) -> int:
    return Transaction.objects.filter(entries__account__owner__email=customer.email).distinct().count()


def test_it_creates_three_customers_with_two_accounts_each(demo_db):
    for customer in demo.CUSTOMERS:
        user = User.objects.get(email=customer.email)
        assert user.full_name == customer.full_name
        assert user.phone.startswith("+91 ")
        assert user.check_password(demo.DEMO_PASSWORD)
        assert not user.is_staff
        accounts = Account.objects.filter(owner=user)
        assert sorted(accounts.values_list("kind", "name")) == [
            ("current", "Everyday current"),
            ("savings", "Salary savings"),
        ]
        assert all(
            len(number) == 12 and number.isdigit() for number in accounts.values_list("number", flat=True)
        )


def _printed_staff_password(output: str) -> str:
    (line,) = [line for line in output.splitlines() if "Staff password" in line]
    return line.rsplit(" ", 1)[1]


def test_it_creates_a_staff_superuser_with_a_random_password_printed_once(demo_db):
    staff = User.objects.get(email=demo.STAFF_EMAIL)
    assert staff.is_staff and staff.is_superuser
    assert not staff.check_password(demo.DEMO_PASSWORD)
    password = _printed_staff_password(demo_db)
    assert len(password) >= 20
    assert staff.check_password(password)
    assert "shown this once" in demo_db


def test_it_keeps_every_balance_equal_to_the_sum_of_its_entries(demo_db):
    accounts = Account.objects.annotate(total=Coalesce(Sum("entries__amount"), 0))
    assert [(a.number, a.balance) for a in accounts] == [(a.number, a.total) for a in accounts]
    assert Entry.objects.exists()


def test_it_balances_every_transaction(demo_db):
    transactions = Transaction.objects.annotate(total=Sum("entries__amount"), legs=Count("entries"))
    assert not transactions.filter(~Q(total=0) | Q(legs__lt=2)).exists()


def test_it_alerts_no_customer_of_a_history(demo_db):
    """Postings dated in the past by the loader are history, not news: no alert (transactions/alerts.py)."""
    assert Transaction.objects.exists()
    assert not PostingAlert.objects.exists()


def test_it_keeps_the_bank_total_at_zero(demo_db):
    assert Account.objects.aggregate(total=Sum("balance"))["total"] == 0


def test_it_never_takes_a_customer_balance_below_zero(demo_db):
    customer_entries = Entry.objects.filter(account__owner__isnull=False)
    assert customer_entries.count() > 1000
    assert not customer_entries.filter(balance_after__lt=0).exists()
    assert not Account.objects.filter(owner__isnull=False, balance__lt=0).exists()


def test_it_spreads_a_year_of_activity_over_months_and_categories(demo_db):
    for customer in demo.CUSTOMERS:
        entries = Entry.objects.filter(account__owner__email=customer.email)
        months = entries.annotate(month=TruncMonth("created", tzinfo=demo.IST)).values("month").distinct()
        assert months.count() >= 12
        # The category the customer sees: card and UPI payments come uncategorised and the bank's default
        # rules categorise them when seed_demo catches the insights' sums up.
        categories = set(entries.annotate(seen=effective_category()).values_list("seen", flat=True))
        assert {
            "salary",
            "rent",
            "groceries",
            "dining",
            "travel",
            "utilities",
            "emi",
            "interest",
        } <= categories
        kinds = set(entries.values_list("transaction__kind", flat=True))
        assert {"salary", "upi", "card", "withdrawal", "interest", "transfer", "fee"} <= kinds
        assert entries.filter(transaction__kind="salary").count() == 12


def test_it_dates_the_year_up_to_yesterday_in_india(demo_db):
    created = Entry.objects.filter(account__owner__isnull=False).values_list("created", flat=True)
    days = {moment.astimezone(demo.IST).date() for moment in created}
    assert min(days) == datetime.date(2025, 3, 5)
    assert max(days) == ANCHOR - datetime.timedelta(days=1)


def test_it_pays_a_plausible_salary(demo_db):
    salaries = Transaction.objects.filter(kind="salary").values_list("entries__amount", flat=True)
    assert all(80_000_00 <= abs(amount) <= 1_60_000_00 for amount in salaries)


def test_it_says_what_it_loaded(demo_db):
    assert "3 customers, 6 accounts" in demo_db
    for email in ("alice@example.com", "bob@example.com", "charlie@example.com", "staff@example.com"):
        assert email in demo_db
    assert demo.DEMO_PASSWORD in demo_db


def test_it_adds_nothing_when_run_twice(demo_db):
    count = Transaction.objects.count()
    out = StringIO()
    call_command("seed_demo", stdout=out)
    assert "already loaded" in out.getvalue()
    assert Transaction.objects.count() == count


def test_it_posts_nothing_new_when_a_plan_is_posted_again(demo_db):
    count = Transaction.objects.count()
    loaded = load_customer(demo.CUSTOMERS[0], ANCHOR, password_hash="!")
    assert loaded.planned > 300
    assert loaded.posted == 0
    assert Transaction.objects.count() == count


def test_it_loads_exactly_the_plan_of_the_day(demo_db):
    for customer in demo.CUSTOMERS:
        plan = demo.build_plan(customer, ANCHOR)
        assert plan == demo.build_plan(customer, ANCHOR)
        assert _customer_transactions(customer) == len(plan)
        balances = dict(Account.objects.filter(owner__email=customer.email).values_list("kind", "balance"))
        assert balances == demo.closing_balances(plan)


@settings(max_examples=15, deadline=None)
@given(anchor=st.dates(min_value=datetime.date(2020, 1, 1), max_value=datetime.date(2040, 12, 31)))
def test_it_plans_a_year_that_stays_above_zero_on_any_day(anchor):
    for customer in demo.CUSTOMERS:
        plan = demo.build_plan(customer, anchor)  # raises PlanError if an account would go below zero
        keys = [posting.key(customer.username) for posting in plan]
        assert len(set(keys)) == len(keys)
        assert [posting.when for posting in plan] == sorted(posting.when for posting in plan)
        assert all(type(posting.amount) is int and posting.amount > 0 for posting in plan)
        assert plan[0].when.date() == demo.year_before(anchor)
        assert plan[-1].when.date() < anchor


def test_it_has_a_demo_password_that_passes_the_validators():
    assert len(demo.DEMO_PASSWORD) >= 12
    validate_password(demo.DEMO_PASSWORD, User(email="alice@example.com", full_name="Alisha Iyer"))


def test_it_plans_only_kinds_accounts_and_categories_the_ledger_knows():
    for customer in demo.CUSTOMERS:
        plan = demo.build_plan(customer, ANCHOR)
        assert {posting.kind for posting in plan} <= set(Transaction.Kind.values)
        assert {posting.account for posting in plan} <= set(Account.Kind.values) - {Account.Kind.INTERNAL}
        assert {posting.category for posting in plan} <= set(CATEGORIES) | {None}


def _demo_merchants() -> list[demo.Merchant]:
    return [m for habit in demo.HABITS for m in habit.merchants if m.kind in demo.UNCATEGORISED_KINDS]


def test_the_banks_default_rules_categorise_every_demo_merchant():
    """Each card or UPI merchant of the demo gets, from the default rules alone, the category it stands for
    (and an earlier rule does not catch it first: "Swiggy Instamart" is groceries, not dining)."""
    defaults = [
        CategoryRule(field="counterparty", contains=text, direction="out", category_id=slug)
        for text, slug in DEFAULT_RULES
    ]
    assert len(_demo_merchants()) > 20
    for merchant in _demo_merchants():
        found = rollup.category_by_rules(
            [],
            defaults,
            counterparty=merchant.name,
            description=merchant.description,
            amount=-merchant.low,
            bank_category=None,
        )
        assert found is not None, f"no default rule for {merchant.name}"
        assert found[0].category_id == merchant.category, merchant.name


def test_it_posts_card_and_upi_payments_uncategorised_for_the_default_rules(demo_db):
    expected = {merchant.name: merchant.category for merchant in _demo_merchants()}
    payments = Entry.objects.filter(
        account__owner__email__in=[c.email for c in demo.CUSTOMERS],
        transaction__kind__in=[Transaction.Kind.CARD, Transaction.Kind.UPI],
        transaction__counterparty__in=expected,  # (bills are UPI payments too, categorised by the biller)
    )
    assert payments.count() > 300
    assert not payments.filter(transaction__category__isnull=False).exists()
    seen = payments.values_list(
        "transaction__counterparty", "customer_category__category", "customer_category__source"
    )
    for counterparty, category, source in seen:
        assert (category, source) == (expected[counterparty], EntryCategory.Source.DEFAULT), counterparty


def test_it_catches_every_demo_accounts_sums_up(demo_db):
    accounts = Account.objects.filter(owner__email__in=[c.email for c in demo.CUSTOMERS])
    assert accounts.count() == 2 * len(demo.CUSTOMERS)
    for account in accounts:
        state = RollupState.objects.get(account=account)
        assert state.ledger_version == account.ledger_version
        assert state.last_entry_id == account.entries.order_by("-id").values_list("id", flat=True)[0]


def test_it_refuses_a_category_the_ledger_does_not_know():
    with pytest.raises(ValueError, match="Unknown category 'grocery'"):
        demo.category_code("grocery")


def test_it_refuses_a_plan_that_the_overdraft_rule_would_refuse():
    broke = dataclasses.replace(demo.CUSTOMERS[0], opening=0, salary=1_00, budget=1_00)
    with pytest.raises(demo.PlanError, match="takes savings to -"):
        demo.build_plan(broke, ANCHOR)


def test_it_gives_the_password_to_a_bare_python_as_the_makefile_asks():
    command = "from portal.seeding import DEMO_PASSWORD; print(DEMO_PASSWORD)"
    env = {"PATH": "/usr/bin:/bin"}  # no DJANGO_SETTINGS_MODULE, as in `make run`
    result = subprocess.run(  # noqa: S603 (fixed arguments)
        [sys.executable, "-c", command], capture_output=True, text=True, env=env, cwd=BASE_DIR, check=True
    )
    assert result.stdout.strip() == demo.DEMO_PASSWORD


def test_it_gives_each_customer_a_previous_sign_in_the_evening_before(demo_db, client):
    for customer in demo.CUSTOMERS:
        user = User.objects.get(email=customer.email)
        assert user.last_login == datetime.datetime(2026, 3, 4, 20, 15, tzinfo=demo.IST)
    customer = demo.CUSTOMERS[0]
    response = client.post(
        "/login/", {"username": customer.email, "password": demo.DEMO_PASSWORD}, follow=True
    )
    body = response.content.decode()
    assert "Your previous sign-in was on 4 Mar 2026, 8:15 PM IST" in body
    assert "first sign-in" not in body


def test_it_gives_the_customers_payees_in_every_state(demo_db):
    """A payee ready to be paid, one in its new-payee period and one still cooling off, and payees at
    SecureBank that name another demo customer's savings: `make run` shows every payee page's state."""
    from accounts.models import Payee
    from transactions import limits

    payees = Payee.objects.select_related("owner", "account")
    assert payees.count() == len(demo.PAYEES)
    now = timezone.now()
    states = {
        "cooling off"
        if now < limits.cooling_off_until(p)
        else "capped"
        if now < limits.capped_until(p)
        else "ready"
        for p in payees
    }
    assert states == {"cooling off", "capped", "ready"}
    ours = [p for p in payees if p.account_id]
    assert ours and all(p.account.owner_id != p.owner_id and p.ifsc == "SECB0000001" for p in ours)
    call_command("seed_demo", "--allow-production", stdout=StringIO())
    assert Payee.objects.count() == len(demo.PAYEES)
