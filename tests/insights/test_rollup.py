"""The insights' daily sums against the ledger: every figure equals Python's sums over the same entries
(hypothesis), days and months are India's, a new entry or a new category shows at once (a new cache key,
no scan), and one customer's sums never hold another's entries."""

import datetime
import uuid
from collections import defaultdict
from zoneinfo import ZoneInfo

import pytest
import time_machine
from django.db import transaction
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from accounts.models import Account
from portal.seeding.history import posted_at
from tests.factories import AccountFactory
from transactions import services
from transactions.insights import rollup
from transactions.insights.models import DayCategory, EntryCategory, RollupState
from transactions.insights.periods import LAST_MONTH, MONTHS_3, THIS_MONTH, custom, preset
from transactions.insights.selectors import insights, insights_accounts
from transactions.insights.services import entry_recategorise
from transactions.models import Entry

IST = ZoneInfo("Asia/Kolkata")
NOW = datetime.datetime(2026, 11, 20, 12, 0, tzinfo=IST)
CATEGORY_SLUGS = ["groceries", "dining", "travel", "shopping", None]
MERCHANTS = ["Swiggy", "DMart", "Uber", "Local kirana", ""]


def ist(*args: int) -> datetime.datetime:
    return datetime.datetime(*args, tzinfo=IST)


def _key() -> str:
    return str(uuid.uuid4())


def pay(account, when, paise, counterparty="Shop", category=None, description="Purchase"):
    with posted_at(when):
        return services.payment_create(
            account=account,
            amount_paise=paise,
            description=description,
            counterparty=counterparty,
            category=category,
            idempotency_key=_key(),
        )


def receive(account, when, paise, counterparty="Employer", category="salary"):
    with posted_at(when):
        return services.deposit_create(
            account=account,
            amount_paise=paise,
            description="Credit",
            counterparty=counterparty,
            category=category,
            idempotency_key=_key(),
        )


@pytest.fixture(autouse=True)
def _now():
    with time_machine.travel(NOW, tick=False):
        yield


def python_view(accounts: list[Account], start: datetime.date, end: datetime.date) -> dict:
    """The same figures straight from the entries, in Python."""
    spent: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    merchants: dict[str, int] = defaultdict(int)
    by_month: dict[datetime.date, list[int]] = defaultdict(lambda: [0, 0])
    moved = 0
    entries = Entry.objects.filter(account__in=accounts).select_related("transaction").order_by("id")
    annotations = dict(EntryCategory.objects.values_list("entry_id", "category_id"))
    for entry in entries:
        day = entry.created.astimezone(IST).date()
        if not start <= day <= end:
            continue
        category = annotations.get(entry.pk) or entry.transaction.category_id or "other"
        if entry.transaction.kind == "transfer":
            moved += -entry.amount if entry.amount < 0 else 0
            continue
        month = day.replace(day=1)
        if entry.amount < 0:
            spent[category] += -entry.amount
            by_month[month][1] += -entry.amount
            party = entry.counterparty or entry.transaction.counterparty
            if party:
                merchants[party] += -entry.amount
        else:
            received[category] += entry.amount
            by_month[month][0] += entry.amount
    return {
        "spent": {k: v for k, v in spent.items() if v},
        "received": {k: v for k, v in received.items() if v},
        "merchants": merchants,
        "months": {m: tuple(v) for m, v in by_month.items()},
        "moved": moved,
    }


def spent_by(found) -> dict[str, int]:
    return {c.slug: c.spent for c in found.categories if c.spent}


def closing_balance(accounts: list[Account], day: datetime.date) -> int:
    total = 0
    for account in accounts:
        last = (
            Entry.objects.filter(
                account=account,
                created__lt=datetime.datetime.combine(day, datetime.time.min, IST)
                + datetime.timedelta(days=1),
            )
            .order_by("-id")
            .first()
        )
        total += last.balance_after if last else 0
    return total


postings = st.lists(
    st.tuples(
        st.integers(min_value=0, max_value=24 * 60 * 100),  # minutes before now, up to 100 days
        st.integers(min_value=1, max_value=5_00_000_00),  # paise
        st.sampled_from(["out", "in", "own"]),
        st.sampled_from(CATEGORY_SLUGS),
        st.sampled_from(MERCHANTS),
        st.booleans(),  # on the current account (else savings)
    ),
    min_size=1,
    max_size=25,
)


@pytest.mark.django_db
@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    postings=postings,
    period=st.sampled_from([THIS_MONTH, LAST_MONTH, MONTHS_3]),
    split=st.integers(min_value=0, max_value=25),
    which=st.sampled_from(["both", "current", "savings"]),
)
def test_it_equals_python_sums_over_the_same_entries(alice, postings, period, split, which):
    """Whatever the postings, period and account choice, and whether the sums caught up once at the end or
    halfway through (`split`): every figure equals Python's over the entries."""
    with transaction.atomic():
        current = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
        savings = AccountFactory(owner=alice, name="Savings")
        receive(savings, NOW - datetime.timedelta(days=200), 100_00_000_00, "Opening")
        receive(current, NOW - datetime.timedelta(days=200), 100_00_000_00, "Opening")
        ordered = sorted(postings, key=lambda p: -p[0])
        for i, (minutes, paise, direction, category, merchant, on_current) in enumerate(ordered):
            if i == split:
                for account in (current, savings):
                    rollup.catch_up(account.pk)
            when = NOW - datetime.timedelta(minutes=minutes)
            account = current if on_current else savings
            if direction == "out":
                pay(account, when, paise, merchant, category)
            elif direction == "in":
                receive(account, when, paise, merchant, category)
            else:
                with posted_at(when):
                    services.transfer_create(
                        initiator=alice,
                        source=savings if on_current else current,
                        destination=account,
                        amount_paise=paise,
                        description="Move",
                        idempotency_key=_key(),
                    )
        chosen = {"both": [current, savings], "current": [current], "savings": [savings]}[which]
        for account in chosen:
            account.refresh_from_db()
        p = preset(period)
        found = insights(accounts=chosen, period=p)
        expected = python_view(chosen, p.start, p.end)
        assert {c.slug: c.spent for c in found.categories if c.spent} == expected["spent"]
        assert {c.slug: c.received for c in found.categories if c.received} == expected["received"]
        assert found.spending == sum(expected["spent"].values())
        assert found.income == sum(expected["received"].values())
        assert found.moved_between_own == expected["moved"]
        assert {m.month: (m.income, m.spending) for m in found.months if m.income or m.spending} == {
            m: v for m, v in expected["months"].items() if any(v)
        }
        top = sorted(expected["merchants"].items(), key=lambda kv: (-kv[1], kv[0]))[:5]
        assert [(m.name, m.spent) for m in found.merchants] == top
        for point in found.balance:
            assert point.balance == closing_balance(chosen, point.day), point.day
        assert found.balance[-1].day == min(p.end, NOW.date())
        previous = python_view(chosen, found.previous.start, found.previous.end)
        assert found.previous_spending == sum(previous["spent"].values())
        transaction.set_rollback(True)


@pytest.mark.django_db
def test_it_puts_a_payment_at_2359_ist_on_the_31st_in_that_month(alice):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    receive(account, ist(2026, 10, 1, 9, 0), 10_000_00)
    pay(account, ist(2026, 10, 31, 23, 59), 700_00, "Swiggy", "dining")  # 18:29 UTC on the 31st
    pay(account, ist(2026, 11, 1, 0, 0), 300_00, "Swiggy", "dining")  # 18:30 UTC on the 31st
    account.refresh_from_db()
    october = insights(
        accounts=[account], period=custom(datetime.date(2026, 10, 1), datetime.date(2026, 10, 31))
    )
    assert october.spending == 700_00
    assert [(m.month, m.spending) for m in october.months] == [(datetime.date(2026, 10, 1), 700_00)]
    three = insights(accounts=[account], period=preset(MONTHS_3))
    by_month = {m.month: m.spending for m in three.months}
    assert by_month[datetime.date(2026, 10, 1)] == 700_00
    assert by_month[datetime.date(2026, 11, 1)] == 300_00
    days = {p.day: p.balance for p in three.balance}
    assert days[datetime.date(2026, 10, 31)] == 10_000_00 - 700_00
    assert days[datetime.date(2026, 11, 1)] == 10_000_00 - 1_000_00


@pytest.mark.django_db
def test_a_new_entry_shows_at_once_without_a_scan(alice, django_assert_max_num_queries):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    receive(account, ist(2026, 11, 2, 9, 0), 10_000_00)
    pay(account, ist(2026, 11, 3, 9, 0), 100_00, "DMart", "groceries")
    period = preset(THIS_MONTH)
    [account] = insights_accounts(user=alice)
    assert insights(accounts=[account], period=period).spending == 100_00
    with django_assert_max_num_queries(1):  # the state; the figures come from the cache
        assert insights(accounts=[account], period=period).spending == 100_00
    pay(account, ist(2026, 11, 20, 11, 0), 250_00, "DMart", "groceries")
    [account] = insights_accounts(user=alice)
    fresh = insights(accounts=[account], period=period)
    assert fresh.spending == 350_00
    assert spent_by(fresh) == {"groceries": 350_00}


@pytest.mark.django_db
def test_a_recategorised_entry_moves_in_the_sums_and_the_ledger_stays(alice):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    receive(account, ist(2026, 11, 2, 9, 0), 10_000_00)
    txn = pay(account, ist(2026, 11, 3, 9, 0), 400_00, "Amazon", "shopping")
    pay(account, ist(2026, 11, 3, 10, 0), 100_00, "Amazon", "shopping")
    account.refresh_from_db()
    period = preset(THIS_MONTH)
    assert spent_by(insights(accounts=[account], period=period)) == {"shopping": 500_00}
    entry = Entry.objects.get(transaction=txn, account__owner__isnull=False)
    entry_recategorise(user=alice, entry_id=entry.pk, category="health")
    after = insights(accounts=insights_accounts(user=alice), period=period)
    assert spent_by(after) == {"shopping": 100_00, "health": 400_00}
    txn.refresh_from_db()
    assert txn.category_id == "shopping"  # the bank's category, and the other party's view, untouched
    entry_recategorise(user=alice, entry_id=entry.pk, category=None)
    back = insights(accounts=insights_accounts(user=alice), period=period)
    assert spent_by(back) == {"shopping": 500_00}


@pytest.mark.django_db
def test_it_never_recategorises_another_customers_entry(alice, bob):
    bobs = AccountFactory(owner=bob, name="Bob's")
    receive(bobs, ist(2026, 11, 2, 9, 0), 10_000_00)
    txn = pay(bobs, ist(2026, 11, 3, 9, 0), 400_00, "Amazon", "shopping")
    entry = Entry.objects.get(transaction=txn, account__owner__isnull=False)
    with pytest.raises(Entry.DoesNotExist):
        entry_recategorise(user=alice, entry_id=entry.pk, category="health")
    assert not EntryCategory.objects.exists()


@pytest.mark.django_db
def test_one_customers_insights_hold_none_of_anothers_entries(alice, bob):
    mine = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    theirs = AccountFactory(owner=bob, name="Current", kind=Account.Kind.CURRENT)
    receive(mine, ist(2026, 11, 2, 9, 0), 1_000_00)
    receive(theirs, ist(2026, 11, 2, 9, 0), 9_000_00)
    pay(theirs, ist(2026, 11, 3, 9, 0), 4_000_00, "Secret shop", "shopping")
    assert insights_accounts(user=alice) == [mine]
    found = insights(accounts=insights_accounts(user=alice), period=preset(THIS_MONTH))
    assert found.spending == 0
    assert found.income == 1_000_00
    assert found.merchants == []
    assert {p.balance for p in found.balance if p.day >= datetime.date(2026, 11, 2)} == {1_000_00}
    assert set(DayCategory.objects.values_list("account_id", flat=True)) == {mine.pk}


@pytest.mark.django_db
def test_catch_up_is_idempotent_and_moves_the_watermark(alice):
    account = AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT)
    receive(account, ist(2026, 11, 2, 9, 0), 1_000_00)
    pay(account, ist(2026, 11, 2, 10, 0), 100_00, "DMart", "groceries")
    assert rollup.catch_up(account.pk) is True
    rows = sorted(DayCategory.objects.values_list("day", "category_id", "in_paise", "out_paise", "entries"))
    assert rollup.catch_up(account.pk) is False
    assert (
        sorted(DayCategory.objects.values_list("day", "category_id", "in_paise", "out_paise", "entries"))
        == rows
    )
    state = RollupState.objects.get(account=account)
    assert state.last_entry_id == Entry.objects.filter(account=account).latest("id").pk
    pay(account, ist(2026, 11, 2, 11, 0), 50_00, "DMart", "groceries")
    assert rollup.catch_up(account.pk) is True
    groceries = DayCategory.objects.get(account=account, category_id="groceries")
    assert (groceries.out_paise, groceries.entries) == (150_00, 2)
