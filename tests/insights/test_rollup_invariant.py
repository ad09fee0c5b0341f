"""The daily sums' one invariant, whatever happens in whatever order: for every account and day in India,
`DayCategory`, `DayBalance` and `DayMerchant` equal Python's sums over that day's entries, each entry under
the category the customer sees (manual > their rule > the bank's > the bank's default rule > other), and the
history shows the same category as the sums count.

Hypothesis draws a sequence of postings (across IST midnights), recategorisations (by hand, and back to the
bank's), rules added and removed, backfills and catch-ups, in any order; a sequence of threads does the same
with real concurrency."""

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
from tests.threads import Worker
from transactions import services
from transactions.history.filters import HistoryFilter
from transactions.history.selectors import history_entries
from transactions.insights import rollup
from transactions.insights.models import (
    CategoryRule,
    DayBalance,
    DayCategory,
    DayMerchant,
    EntryCategory,
    RollupState,
    RuleBackfill,
)
from transactions.insights.services import (
    entry_recategorise,
    rule_backfill_run,
    rule_create,
    rule_delete,
)
from transactions.models import Entry

IST = ZoneInfo("Asia/Kolkata")
START = datetime.datetime(2026, 10, 30, 20, 0, tzinfo=IST)  # a month's end and an IST midnight ahead
MERCHANTS = ["Swiggy", "Swiggy Instamart", "DMart", "Uber", "Corner shop", ""]
BANK = ["groceries", "dining", "shopping", None]
CHOICES = ["health", "dining", "travel", None]  # None: back to the bank's


def _key() -> str:
    return str(uuid.uuid4())


def python_day_sums(account: Account) -> tuple[dict, dict, dict]:
    """The three tables' rows for `account`, straight from its entries in Python."""
    mine = dict(EntryCategory.objects.filter(account=account).values_list("entry_id", "category_id"))
    categories: dict = defaultdict(lambda: [0, 0, 0])
    balances: dict = {}
    merchants: dict = defaultdict(lambda: [0, 0])
    for entry in Entry.objects.filter(account=account).select_related("transaction").order_by("id"):
        day = entry.created.astimezone(IST).date()
        txn = entry.transaction
        category = mine.get(entry.pk) or txn.category_id or "other"
        own = txn.kind == "transfer"
        money_in, money_out = max(entry.amount, 0), max(-entry.amount, 0)
        row = categories[(day, category, own)]
        row[0] += money_in
        row[1] += money_out
        row[2] += 1
        before = balances.get(day, (0, 0, 0, 0))
        balances[day] = (entry.balance_after, before[1] + money_in, before[2] + money_out, before[3] + 1)
        party = entry.counterparty or txn.counterparty
        if entry.amount < 0 and not own and party:
            merchants[(day, party)][0] += money_out
            merchants[(day, party)][1] += 1
    return (
        {k: tuple(v) for k, v in categories.items()},
        balances,
        {k: tuple(v) for k, v in merchants.items()},
    )


def assert_sums_equal_entries(account: Account) -> None:
    categories, balances, merchants = python_day_sums(account)
    assert {
        (d, c, o): (i, out, n)
        for d, c, o, i, out, n in DayCategory.objects.filter(account=account).values_list(
            "day", "category_id", "own", "in_paise", "out_paise", "entries"
        )
    } == categories
    assert {
        d: (closing, i, out, n)
        for d, closing, i, out, n in DayBalance.objects.filter(account=account).values_list(
            "day", "closing_paise", "in_paise", "out_paise", "entries"
        )
    } == balances
    assert {
        (d, p): (out, n)
        for d, p, out, n in DayMerchant.objects.filter(account=account).values_list(
            "day", "counterparty", "out_paise", "entries"
        )
    } == merchants
    # The history filters and exports by the category the sums count.
    mine = dict(EntryCategory.objects.filter(account=account).values_list("entry_id", "category_id"))
    for entry in history_entries(account=account, filter=HistoryFilter()):
        assert entry.txn_category == (mine.get(entry.pk) or entry.transaction.category_id or "other")


def _matches(rule: CategoryRule, entry: Entry) -> bool:
    if (rule.direction == "out" and entry.amount > 0) or (rule.direction == "in" and entry.amount < 0):
        return False
    needle = rule.contains.casefold()
    party = (entry.counterparty or entry.transaction.counterparty).casefold()
    text = entry.transaction.description.casefold()
    if rule.field == "counterparty":
        return needle in party
    if rule.field == "description":
        return needle in text
    return needle in party or needle in text


def expected_category(entry: Entry, manual: dict[int, str], own: list, defaults: list) -> str:
    """manual > the customer's first matching rule > the bank's > the first matching default rule > other."""
    if entry.pk in manual:
        return manual[entry.pk]
    for rule in own:
        if _matches(rule, entry):
            return rule.category_id
    if entry.transaction.category_id:
        return entry.transaction.category_id
    for rule in defaults:
        if _matches(rule, entry):
            return rule.category_id
    return "other"


def _post(alice, accounts, when, op) -> None:
    _, on, paise, merchant, bank = op
    account = accounts[on]
    with posted_at(when):
        if op[0] == "pay":
            services.payment_create(
                account=account,
                amount_paise=paise,
                description=f"Order at {merchant}" if merchant else "Card",
                counterparty=merchant,
                category=bank,
                idempotency_key=_key(),
            )
        elif op[0] == "receive":
            services.deposit_create(
                account=account,
                amount_paise=paise,
                description="Refund",
                counterparty=merchant,
                category=bank,
                idempotency_key=_key(),
            )
        else:
            services.transfer_create(
                initiator=alice,
                source=accounts[1 - on],
                destination=account,
                amount_paise=paise,
                description="Move",
                idempotency_key=_key(),
            )


postings = st.tuples(
    st.sampled_from(["pay", "receive", "own"]),
    st.integers(0, 1),  # which account
    st.integers(1, 5_000_00),
    st.sampled_from(MERCHANTS),
    st.sampled_from(BANK),
)
operations = st.lists(
    st.one_of(
        postings,
        postings,
        st.tuples(st.just("wait"), st.integers(1, 20 * 60)),  # minutes: across IST midnights
        st.tuples(st.just("recategorise"), st.integers(0, 10_000), st.sampled_from(CHOICES)),
        st.tuples(st.just("rule"), st.sampled_from(MERCHANTS[:-1]), st.sampled_from(["health", "travel"])),
        st.tuples(st.just("unrule"), st.integers(0, 10)),
        st.tuples(st.just("backfill")),
        st.tuples(st.just("catch_up"), st.integers(0, 1)),
    ),
    min_size=1,
    max_size=30,
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(ops=operations)
def test_the_sums_equal_the_entries_whatever_the_interleaving(alice, ops):
    with time_machine.travel(START + datetime.timedelta(days=3), tick=False), transaction.atomic():
        accounts = [
            AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT),
            AccountFactory(owner=alice, name="Savings"),
        ]
        when = START
        for account in accounts:
            with posted_at(when):
                services.deposit_create(
                    account=account, amount_paise=10_00_000_00, description="Opening", idempotency_key=_key()
                )
        manual: dict[int, str] = {}
        for op in ops:
            if op[0] == "wait":
                when += datetime.timedelta(minutes=op[1])
            elif op[0] in ("pay", "receive", "own"):
                when += datetime.timedelta(minutes=7)
                _post(alice, accounts, when, op)
            elif op[0] == "recategorise":
                entries = list(Entry.objects.filter(account__owner=alice).order_by("id").values_list("pk"))
                (entry_id,) = entries[op[1] % len(entries)]
                entry_recategorise(user=alice, entry_id=entry_id, category=op[2])
                if op[2] is None:
                    manual.pop(entry_id, None)
                else:
                    manual[entry_id] = op[2]
            elif op[0] == "rule":
                if not CategoryRule.objects.filter(owner=alice, contains__iexact=op[1]).exists():
                    rule_create(
                        user=alice, field="counterparty", contains=op[1], direction="any", category=op[2]
                    )
            elif op[0] == "unrule":
                rules = list(CategoryRule.objects.filter(owner=alice).order_by("id"))
                if rules:
                    rule_delete(user=alice, rule_id=rules[op[1] % len(rules)].pk)
            elif op[0] == "backfill":
                rule_backfill_run(RuleBackfill.objects.create(owner=alice).pk)
            else:
                account = accounts[op[1]]
                rollup.catch_up(account.pk)
                assert_sums_equal_entries(account)
        for account in accounts:
            rollup.catch_up(account.pk)
            assert_sums_equal_entries(account)
        # After a backfill every entry has the category the precedence gives, in the sums and the history.
        rule_backfill_run(RuleBackfill.objects.create(owner=alice).pk)
        own = list(CategoryRule.objects.filter(owner=alice).order_by("position", "id"))
        defaults = list(CategoryRule.objects.filter(owner__isnull=True).order_by("position", "id"))
        for account in accounts:
            assert_sums_equal_entries(account)
            for entry in history_entries(account=account, filter=HistoryFilter()):
                assert entry.txn_category == expected_category(entry, manual, own, defaults), entry.pk
        transaction.set_rollback(True)


def _pay(account: Account, merchant: str = "Swiggy") -> None:
    services.payment_create(
        account=account,
        amount_paise=123_45,
        description="Order",
        counterparty=merchant,
        idempotency_key=_key(),
    )


@pytest.mark.django_db(transaction=True)
def test_postings_catch_ups_recategorisations_and_backfills_at_once_leave_the_sums_true(alice):
    """Real concurrency, one connection per thread: postings on both accounts while other threads catch up,
    recategorise and backfill; once all is done and caught up, every day's sums equal its entries."""
    accounts = [
        AccountFactory(owner=alice, name="Current", kind=Account.Kind.CURRENT),
        AccountFactory(owner=alice, name="Savings"),
    ]
    for account in accounts:
        services.deposit_create(
            account=account, amount_paise=10_00_000_00, description="Opening", idempotency_key=_key()
        )
        _pay(account)
        rollup.catch_up(account.pk)
    rule_create(user=alice, field="counterparty", contains="Swiggy", direction="out", category="travel")

    def post() -> None:
        for n in range(30):
            _pay(accounts[n % 2], MERCHANTS[n % len(MERCHANTS)])

    def catch_up() -> None:
        for n in range(30):
            rollup.catch_up(accounts[n % 2].pk)

    def recategorise() -> None:
        for n in range(30):
            entry = Entry.objects.filter(account__owner=alice).order_by("-id")[n % 7]
            entry_recategorise(user=alice, entry_id=entry.pk, category=CHOICES[n % len(CHOICES)])

    def backfill() -> None:
        for _ in range(3):
            rule_backfill_run(RuleBackfill.objects.create(owner=alice).pk)

    workers = [Worker(work) for work in (post, catch_up, recategorise, backfill)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.outcome()
    for account in accounts:
        rollup.catch_up(account.pk)
        assert RollupState.objects.get(account=account).last_entry_id == account.entries.latest("id").pk
        assert_sums_equal_entries(account)
