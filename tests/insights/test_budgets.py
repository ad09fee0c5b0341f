"""Budgets (transactions/insights/budgets.py and the page /insights/budgets/): set, change and remove one per
category; the month's progress equals Python's sums over the entries; the 80 % and 100 % alerts go out once
a month each, whoever runs the check and however often, and again the next month; a real Celery worker
takes a payment over budget through the catch-up to the email."""

import datetime
import time
import uuid
from functools import partial
from zoneinfo import ZoneInfo

import pytest
import time_machine
from celery.contrib.testing.worker import start_worker
from django.core import mail
from django.db import connection
from django.template.loader import render_to_string
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

from accounts import notifications
from accounts.models import Account
from accounts.tasks import notification_send_task
from portal.celery import app
from portal.models import AuditEvent
from tests.conftest import fund
from tests.factories import AccountFactory
from tests.threads import HeldOpen, Worker, wait_until_blocked_by
from transactions import services
from transactions.insights import rollup
from transactions.insights.budgets import (
    BudgetError,
    budget_alerts_check,
    budget_progress,
    budget_remove,
    budget_set,
)
from transactions.insights.models import Budget, BudgetAlert, EntryCategory
from transactions.insights.tasks import rollups_catch_up_task
from transactions.models import Entry

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
BUDGETS = reverse("insights_budgets")
REMOVE = reverse("insights_budget_remove")


@pytest.fixture(autouse=True)
def _now(request):
    """Mid-November 2026 in India, frozen; the tests with threads and a worker keep the real clock."""
    marker = request.node.get_closest_marker("django_db")
    if marker and marker.kwargs.get("transaction"):
        yield None
        return
    with time_machine.travel(NOW, tick=False) as traveller:
        yield traveller


@pytest.fixture
def signed_in(client, alice):
    client.force_login(alice)
    return client


def pay(account: Account, paise: int, category: str | None = "groceries", counterparty: str = "Shop") -> None:
    services.payment_create(
        account=account,
        amount_paise=paise,
        description="Purchase",
        counterparty=counterparty,
        category=category,
        idempotency_key=str(uuid.uuid4()),
    )


def queued_emails(callbacks) -> list:
    """Send the notifications among captured on-commit callbacks (as the Celery task would) and return
    what went out since."""
    before = len(mail.outbox)
    for callback in callbacks:
        if isinstance(callback, partial) and callback.func is notifications._queue:
            notification_send_task(*callback.args)
    return mail.outbox[before:]


def python_month_spent(accounts, category: str, month: datetime.date) -> int:
    """A category's spending in a month straight from the entries, in Python."""
    annotations = dict(EntryCategory.objects.values_list("entry_id", "category_id"))
    total = 0
    for entry in Entry.objects.filter(account__in=accounts).select_related("transaction"):
        day = entry.created.astimezone(IST).date()
        if day.replace(day=1) != month or entry.transaction.kind == "transfer" or entry.amount >= 0:
            continue
        if (annotations.get(entry.pk) or entry.transaction.category_id or "other") == category:
            total += -entry.amount
    return total


# --- the page ----------------------------------------------------------------------------------------------


@pytest.mark.django_db
def test_it_sends_anonymous_to_sign_in(client):
    for response in (client.get(BUDGETS), client.post(BUDGETS, {}), client.post(REMOVE, {})):
        assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


@pytest.mark.django_db
def test_it_refuses_other_methods(signed_in):
    assert signed_in.put(BUDGETS).status_code == 405
    assert signed_in.delete(BUDGETS).status_code == 405
    assert signed_in.get(REMOVE).status_code == 405


def test_it_shows_the_months_budgets_with_their_progress(
    signed_in, alice, alice_savings, django_assert_max_num_queries
):
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    budget_set(user=alice, category="dining", amount_paise=1_000_00)
    pay(alice_savings, 8_000_00)
    pay(alice_savings, 1_200_00, category="dining")
    signed_in.get(BUDGETS)  # catches the sums up
    with django_assert_max_num_queries(14):
        html = signed_in.get(BUDGETS).content.decode()
    assert "₹8,000 of ₹10,000 (80%)" in html and "Nearly used" in html
    assert "₹1,200 of ₹1,000 (120%)" in html and "Over budget" in html and "₹200 over" in html
    assert 'max="1000000" value="800000"' in html  # a <progress>, named and described
    assert 'max="100000" value="100000"' in html


def test_it_sets_a_budget_with_indian_grouping_and_redirects(signed_in, alice):
    response = signed_in.post(BUDGETS, {"form": "add", "category": "groceries", "amount": "₹1,00,000.50"})
    assert response.status_code == 303 and response["Location"] == BUDGETS
    budget = Budget.objects.get(owner=alice)
    assert (budget.category_id, budget.amount_paise) == ("groceries", 1_00_000_50)
    event = AuditEvent.objects.get(action="budget.set")
    assert event.actor == alice and event.before is None
    assert event.after == {"category": "groceries", "amount_paise": 1_00_000_50}
    assert "Your Groceries budget is ₹1,00,000.50 a month." in signed_in.get(BUDGETS).content.decode()


def test_it_changes_a_budget(signed_in, alice):
    budget_set(user=alice, category="dining", amount_paise=2_000_00)
    response = signed_in.post(BUDGETS, {"form": "change", "category": "dining", "amount": "3,500"})
    assert response.status_code == 303
    assert Budget.objects.get(owner=alice).amount_paise == 3_500_00
    event = AuditEvent.objects.filter(action="budget.set").latest("seq")
    assert event.before == {"category": "dining", "amount_paise": 2_000_00}
    assert event.after == {"category": "dining", "amount_paise": 3_500_00}


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("", "Enter an amount."),
        ("abc", "Enter an amount in rupees, like 1500 or 1,500.50."),
        ("-500", "Enter an amount greater than zero."),
        ("0", "Enter an amount greater than zero."),
        ("10.505", "Enter an amount with at most two digits after the decimal point."),
        ("1,00,00,000.01", "Enter a budget of at most ₹1,00,00,000 a month."),
        ("9" * 30, "Ensure this value has at most 24 characters (it has 30)."),
    ],
)
@pytest.mark.parametrize("form", ["add", "change"])
def test_it_refuses_a_bad_amount(signed_in, alice, amount, message, form):
    budget_set(user=alice, category="groceries", amount_paise=5_000_00)
    response = signed_in.post(BUDGETS, {"form": form, "category": "groceries", "amount": amount})
    assert response.status_code == 200
    assert message in response.content.decode()
    assert Budget.objects.get(owner=alice).amount_paise == 5_000_00


@pytest.mark.parametrize("category", ["", "salary", "no-such-category", "%d%s"])
def test_it_refuses_a_category_that_takes_no_budget(signed_in, alice, category):
    for form in ("add", "change"):
        response = signed_in.post(BUDGETS, {"form": form, "category": category, "amount": "500"})
        assert response.status_code == 200
    assert not Budget.objects.exists()


def test_it_asks_for_a_category_when_none_is_chosen(signed_in, alice):
    response = signed_in.post(BUDGETS, {"form": "add", "category": "", "amount": "500"})
    assert "Choose a category." in response.content.decode()
    assert "This field is required." not in response.content.decode()
    assert not Budget.objects.exists()


def test_the_service_refuses_what_the_form_would(alice):
    with pytest.raises(BudgetError, match="at most"):
        budget_set(user=alice, category="groceries", amount_paise=1_00_00_000_01)
    with pytest.raises(BudgetError, match="greater than zero"):
        budget_set(user=alice, category="groceries", amount_paise=0)
    with pytest.raises(BudgetError, match="Choose"):
        budget_set(user=alice, category="nothing", amount_paise=100)
    assert not Budget.objects.exists()


def test_it_answers_htmx_with_the_list_and_the_status_line(signed_in, alice):
    response = signed_in.post(
        BUDGETS, {"form": "add", "category": "travel", "amount": "4000"}, HTTP_HX_REQUEST="true"
    )
    html = response.content.decode()
    assert response.status_code == 200 and "<html" not in html
    assert 'id="budgets-status" hx-swap-oob="innerHTML"' in html
    assert "Your Travel budget is ₹4,000 a month." in html and 'id="budgets-manage"' in html
    assert response["Vary"].count("HX-Request") == 1
    refused = signed_in.post(
        BUDGETS, {"form": "change", "category": "travel", "amount": "x"}, HTTP_HX_REQUEST="true"
    )
    assert "Enter an amount in rupees" in refused.content.decode() and "<html" not in refused.content.decode()


def test_it_removes_a_budget(signed_in, alice):
    budget_set(user=alice, category="dining", amount_paise=2_000_00)
    response = signed_in.post(REMOVE, {"category": "dining"})
    assert response.status_code == 303 and response["Location"] == BUDGETS
    assert not Budget.objects.exists()
    event = AuditEvent.objects.get(action="budget.remove")
    assert event.before == {"category": "dining", "amount_paise": 2_000_00}


def test_removing_another_customers_budget_is_a_404(client, alice, bob):
    budget_set(user=alice, category="dining", amount_paise=2_000_00)
    client.force_login(bob)
    assert client.post(REMOVE, {"category": "dining"}).status_code == 404
    assert client.post(REMOVE, {"category": "nothing"}).status_code == 404
    assert client.post(REMOVE, {}).status_code == 404
    assert client.post(REMOVE, {"category": "din\x00ing"}).status_code == 404  # never a 500 from the database
    assert Budget.objects.get().owner == alice
    with pytest.raises(Budget.DoesNotExist):
        budget_remove(user=bob, category="dining")


def test_another_customers_budgets_and_spending_never_show(client, alice, alice_savings, bob, bob_savings):
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    budget_set(user=bob, category="groceries", amount_paise=3_000_00)
    pay(alice_savings, 9_000_00)
    client.force_login(bob)
    html = client.get(BUDGETS).content.decode()
    assert "₹0 of ₹3,000 (0%)" in html and "₹10,000" not in html and "₹9,000" not in html


# --- progress ----------------------------------------------------------------------------------------------


def test_progress_is_the_months_spending_across_accounts_without_own_transfers(alice):
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    budget_set(user=alice, category="dining", amount_paise=2_000_00)
    budget_set(user=alice, category="transfers", amount_paise=1_000_00)
    with time_machine.travel(NOW - datetime.timedelta(days=30), tick=False):  # October: not this month
        alice_savings = fund(AccountFactory(owner=alice, name="Savings"), 50_000_00)
        pay(alice_savings, 700_00)
    alice_current = fund(AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT), 5_000_00)
    pay(alice_savings, 1_234_56)
    pay(alice_current, 765_44)
    pay(alice_savings, 300_00, category=None, counterparty="Swiggy")  # the bank's default rule: dining
    services.transfer_create(
        initiator=alice,
        source=alice_savings,
        destination=alice_current,
        amount_paise=2_500_00,
        description="To current",
        idempotency_key=str(uuid.uuid4()),
    )
    month = NOW.date().replace(day=1)
    progress = {row.category: row for row in budget_progress(user=alice)}
    accounts = [alice_savings, alice_current]
    for category in ("groceries", "dining", "transfers"):
        assert progress[category].spent == python_month_spent(accounts, category, month)
    assert progress["groceries"].spent == 2_000_00 and progress["groceries"].percent == 20
    assert progress["dining"].spent == 300_00 and progress["transfers"].spent == 0
    assert [row.category for row in budget_progress(user=alice)] == ["dining", "groceries", "transfers"]


def test_progress_catches_up_sums_the_ledger_moved_past(alice, alice_savings):
    budget_set(user=alice, category="groceries", amount_paise=1_000_00)
    pay(alice_savings, 100_00)
    assert budget_progress(user=alice)[0].spent == 100_00
    pay(alice_savings, 50_00)  # the sums are now behind the ledger
    assert budget_progress(user=alice)[0].spent == 150_00


def test_the_state_follows_the_percentages(alice, alice_savings):
    budget_set(user=alice, category="groceries", amount_paise=1_000_00)
    states = []
    for paise in (799_99, 1, 199_99, 1, 1):
        pay(alice_savings, paise)
        row = budget_progress(user=alice)[0]
        states.append((row.percent, row.state))
    assert states == [(79, "ok"), (80, "near"), (99, "near"), (100, "over"), (100, "over")]


# --- alerts ------------------------------------------------------------------------------------------------


def test_crossing_80_percent_sends_one_alert_and_the_same_month_none_again(
    alice, alice_savings, django_capture_on_commit_callbacks
):
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    pay(alice_savings, 7_999_99)
    assert budget_alerts_check(alice.pk) == []
    pay(alice_savings, 1)
    with django_capture_on_commit_callbacks() as callbacks:
        assert budget_alerts_check(alice.pk) == [("groceries", 80)]
    (email,) = queued_emails(callbacks)
    assert email.to == [alice.email]
    assert email.subject == "You have used 80% of your Groceries budget for November 2026"
    assert (
        "You have spent ₹8,000.00 on Groceries in November 2026: 80% of the ₹10,000 you budgeted."
        in email.body
    )
    assert "₹2,000.00 is left" in email.body
    pay(alice_savings, 1_000_00)
    with django_capture_on_commit_callbacks() as callbacks:
        assert budget_alerts_check(alice.pk) == []
    assert queued_emails(callbacks) == []
    alert = BudgetAlert.objects.get()
    assert (alert.level, alert.month, alert.spent_paise, alert.budget_paise) == (
        80,
        datetime.date(2026, 11, 1),
        8_000_00,
        10_000_00,
    )


def test_crossing_100_percent_sends_one_more_and_next_month_they_come_again(
    alice, alice_savings, django_capture_on_commit_callbacks, _now
):
    budget_set(user=alice, category="dining", amount_paise=1_000_00)
    pay(alice_savings, 850_00, category="dining")
    assert budget_alerts_check(alice.pk) == [("dining", 80)]
    pay(alice_savings, 200_00, category="dining")
    with django_capture_on_commit_callbacks() as callbacks:
        assert budget_alerts_check(alice.pk) == [("dining", 100)]
        assert budget_alerts_check(alice.pk) == []
    (email,) = queued_emails(callbacks)
    assert email.subject == "You have used all of your Dining budget for November 2026"
    assert "105% of the ₹1,000 you budgeted. That is ₹50.00 more than the budget." in email.body
    _now.move_to(datetime.datetime(2026, 12, 1, 0, 5, tzinfo=IST))  # a new month in India
    assert budget_alerts_check(alice.pk) == []
    pay(alice_savings, 1_000_00, category="dining")
    with django_capture_on_commit_callbacks() as callbacks:
        assert budget_alerts_check(alice.pk) == [("dining", 100)]
    (email,) = queued_emails(callbacks)
    assert email.subject == "You have used all of your Dining budget for December 2026"
    assert sorted(BudgetAlert.objects.values_list("month", "level")) == [
        (datetime.date(2026, 11, 1), 80),
        (datetime.date(2026, 11, 1), 100),
        (datetime.date(2026, 12, 1), 80),
        (datetime.date(2026, 12, 1), 100),
    ]


def test_going_straight_past_both_sends_only_the_100_percent_alert_and_records_both(
    alice, alice_savings, django_capture_on_commit_callbacks
):
    budget_set(user=alice, category="groceries", amount_paise=1_000_00)
    pay(alice_savings, 1_500_00)
    with django_capture_on_commit_callbacks() as callbacks:
        assert budget_alerts_check(alice.pk) == [("groceries", 100)]
    assert [email.subject for email in queued_emails(callbacks)] == [
        "You have used all of your Groceries budget for November 2026"
    ]
    assert sorted(BudgetAlert.objects.values_list("level", flat=True)) == [80, 100]
    assert budget_alerts_check(alice.pk) == []


def test_a_budget_lowered_below_the_spending_alerts_at_once(
    alice, alice_savings, django_capture_on_commit_callbacks
):
    """budget_set queues the check on commit; run here by Celery in this process (eager), it emails."""
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    pay(alice_savings, 3_000_00)
    with django_capture_on_commit_callbacks() as queued:
        budget_set(user=alice, category="groceries", amount_paise=3_500_00)
    (check,) = queued
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks() as callbacks:
            check()  # the task, by its name, run in this process
    finally:
        app.conf.task_always_eager = False
    (email,) = queued_emails(callbacks)
    assert email.subject == "You have used 85% of your Groceries budget for November 2026"
    assert BudgetAlert.objects.get().level == 80


def test_the_catch_up_queues_a_check_only_for_a_customer_with_budgets(
    alice, alice_savings, bob, bob_savings, django_capture_on_commit_callbacks
):
    budget_set(user=alice, category="groceries", amount_paise=1_000_00)
    pay(alice_savings, 10_00)
    pay(bob_savings, 10_00)
    with django_capture_on_commit_callbacks() as callbacks:
        assert rollup.catch_up(bob_savings.pk) is True
    assert callbacks == []
    with django_capture_on_commit_callbacks() as callbacks:
        assert rollup.catch_up(alice_savings.pk) is True
        assert rollup.catch_up(alice_savings.pk) is False  # nothing new: nothing queued
    assert len(callbacks) == 1


def test_the_catch_up_asks_about_budgets_once_and_only_when_something_was_new(bob, bob_savings):
    """A customer without budgets pays one EXISTS more per catch-up that found new entries, else nothing."""
    pay(bob_savings, 10_00)
    with CaptureQueriesContext(connection) as new:
        assert rollup.catch_up(bob_savings.pk) is True
    with CaptureQueriesContext(connection) as nothing_new:
        assert rollup.catch_up(bob_savings.pk) is False
    asked = [q["sql"] for q in new.captured_queries if '"insights_budget"' in q["sql"]]
    assert len(asked) == 1 and "LIMIT 1" in asked[0]
    assert not [q for q in nothing_new.captured_queries if '"insights_budget"' in q["sql"]]


@pytest.mark.django_db(transaction=True)
def test_two_checks_at_once_send_one_alert(alice):
    """Two workers check the same budget at once: the second waits on the first's alert row (the unique
    constraint) and, once it commits, records and sends nothing."""
    savings = fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    pay(savings, 900_00)
    rollup.catch_up(savings.pk)  # no budget yet: nothing queued
    Budget.objects.create(owner=alice, category_id="groceries", amount_paise=1_000_00)
    app.conf.task_always_eager = True  # the email task in this process (locmem outbox) on commit
    try:
        first = HeldOpen(lambda: budget_alerts_check(alice.pk))
        first.start_and_wait()
        second = Worker(lambda: budget_alerts_check(alice.pk))
        second.start()
        wait_until_blocked_by(first.pid, "the second check")
        first.release()
        assert first.outcome() == [("groceries", 80)]
        assert second.outcome() == []
    finally:
        app.conf.task_always_eager = False
    assert [email.subject for email in mail.outbox] == [
        f"You have used 90% of your Groceries budget for {timezone.localdate():%B %Y}"
    ]
    assert BudgetAlert.objects.count() == 1


def _wait_for(condition, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.05)


@pytest.mark.django_db(transaction=True)
def test_a_real_worker_takes_a_payment_over_budget_to_the_emails(alice):
    """Over the Redis broker to a Celery worker (a thread of this process): a payment, the beat's catch-up,
    the check it queues, the email it queues; then a second payment past the budget."""
    savings = fund(AccountFactory(owner=alice, name="Savings"), 10_000_00)
    app.control.purge()
    month = f"{timezone.localdate():%B %Y}"
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=10):
        budget_set(user=alice, category="groceries", amount_paise=1_000_00)
        pay(savings, 850_00)
        rollups_catch_up_task.delay()
        _wait_for(lambda: len(mail.outbox) >= 1)
        pay(savings, 200_00)
        rollups_catch_up_task.delay()
        _wait_for(lambda: len(mail.outbox) >= 2)
    assert [email.subject for email in mail.outbox] == [
        f"You have used 85% of your Groceries budget for {month}",
        f"You have used all of your Groceries budget for {month}",
    ]
    assert BudgetAlert.objects.filter(owner=alice).count() == 2


def test_the_insights_page_partial_draws_the_months_bars(alice, alice_savings):
    """templates/transactions/insights/_budgets.html, which the insights page includes with `budgets`."""
    assert "Set a budget" in render_to_string("transactions/insights/_budgets.html", {"budgets": []})
    budget_set(user=alice, category="groceries", amount_paise=10_000_00)
    pay(alice_savings, 10_000_00)
    html = render_to_string("transactions/insights/_budgets.html", {"budgets": budget_progress(user=alice)})
    assert "₹10,000 of ₹10,000 (100%)" in html and "All used" in html
    assert f'href="{BUDGETS}"' in html and "<progress" in html


def test_a_recategorised_payment_that_crosses_a_budget_alerts(
    alice, alice_savings, django_capture_on_commit_callbacks
):
    """Moving a payment into a budgeted category by hand crosses the budget as spending it would: the
    check is queued after the commit (here run by Celery eagerly), and the alert goes out."""
    from transactions.insights.services import entry_recategorise

    budget_set(user=alice, category="dining", amount_paise=1_000_00)
    pay(alice_savings, 900_00, category="shopping", counterparty="Big Mall")
    rollup.catch_up(alice_savings.pk)
    entry = Entry.objects.filter(account=alice_savings, amount=-900_00).get()
    with django_capture_on_commit_callbacks() as callbacks:
        entry_recategorise(user=alice, entry_id=entry.pk, category="dining")
    assert callbacks, "no budget check queued"
    previous = app.conf.task_always_eager
    app.conf.task_always_eager = True
    try:
        with django_capture_on_commit_callbacks() as sent:
            for callback in callbacks:
                callback()
    finally:
        app.conf.task_always_eager = previous
    assert BudgetAlert.objects.filter(owner=alice, category="dining", level=80).exists()
    (email,) = queued_emails(sent)
    assert email.subject == "You have used 90% of your Dining budget for November 2026"
