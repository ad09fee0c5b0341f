"""What the insights page shows, read from the daily sums (rollup.py) and cached.

Every read starts from `insights_accounts`, which filters by owner. `insights` catches the sums up where
the ledger moved (one query finds out: each account's `ledger_version` beside its `RollupState`), then
answers from the cache, keyed by the period, the accounts and, per account, the ledger version and the sums'
own version (a recategorisation moves it): a new entry or a new category makes a new key, no scan needed.
"""

import datetime
import hashlib
from collections import defaultdict
from dataclasses import dataclass, field

from django.core.cache import cache
from django.db.models import OuterRef, Subquery, Sum
from django.utils import timezone

from accounts.models import Account, User
from transactions.insights import rollup
from transactions.insights.models import DayBalance, DayCategory, DayMerchant, RollupState
from transactions.insights.periods import Period
from transactions.models import Category

CACHE_SECONDS = 24 * 60 * 60
CACHE_PREFIX = "insights:v1"
TOP_MERCHANTS = 5


@dataclass(frozen=True)
class CategoryTotal:
    slug: str
    name: str
    spent: int  # paise out in the period
    received: int  # paise in
    entries: int
    previous_spent: int  # paise out in the previous period

    @property
    def change_percent(self) -> int | None:
        """Spending against the previous period, in whole percent (None: nothing spent then)."""
        if not self.previous_spent:
            return None
        return round((self.spent - self.previous_spent) * 100 / self.previous_spent)


@dataclass(frozen=True)
class MonthTotal:
    month: datetime.date  # the first of the month
    income: int
    spending: int
    by_category: dict[str, int] = field(default_factory=dict)  # slug -> paise out

    @property
    def net(self) -> int:
        return self.income - self.spending


@dataclass(frozen=True)
class BalancePoint:
    day: datetime.date
    balance: int  # paise, the selected accounts' closing balances added


@dataclass(frozen=True)
class MerchantTotal:
    name: str
    spent: int
    entries: int


@dataclass(frozen=True)
class Insights:
    period: Period
    previous: Period
    account_ids: tuple[int, ...]
    categories: list[CategoryTotal]  # most spent first; categories with neither spending nor income left out
    months: list[MonthTotal]
    balance: list[BalancePoint]  # one per day of the period, up to today
    merchants: list[MerchantTotal]  # the TOP_MERCHANTS most paid
    income: int
    spending: int
    previous_income: int
    previous_spending: int
    moved_between_own: int  # paise moved out to the customer's own accounts (neither income nor spending)

    @property
    def net(self) -> int:
        return self.income - self.spending

    @property
    def spending_change_percent(self) -> int | None:
        if not self.previous_spending:
            return None
        return round((self.spending - self.previous_spending) * 100 / self.previous_spending)

    @property
    def has_activity(self) -> bool:
        return bool(self.income or self.spending or self.moved_between_own)


def insights_accounts(*, user: User) -> list[Account]:
    """The customer's accounts that have insights: their own, open or closed, in the dashboard's order."""
    return list(Account.objects.filter(owner=user).order_by("id"))


def _states(accounts: list[Account]) -> dict[int, RollupState]:
    return {s.account_id: s for s in RollupState.objects.filter(account_id__in=[a.pk for a in accounts])}


def cache_key(states: dict[int, RollupState], period: Period) -> str:
    """The key of the insights of these accounts' sums over `period`: what was summed (each account's ledger
    version caught up to) and how it was categorised (`version`)."""
    parts = [period.key, period.start.isoformat(), period.end.isoformat()]
    for account_id in sorted(states):
        state = states[account_id]
        parts.append(f"{account_id}.{state.ledger_version}.{state.version}")
    digest = hashlib.sha256("|".join(parts).encode()).hexdigest()[:32]
    return f"{CACHE_PREFIX}:{digest}"


class InsightsPending(Exception):
    """An account has more new entries than a page should sum while the customer waits (a first look at a
    long history): its catch-up was handed to a worker; the page says so and asks again later."""

    def __init__(self, accounts: list[Account]) -> None:
        super().__init__(f"sums being prepared for {len(accounts)} account(s)")
        self.accounts = accounts


def insights_key(*, accounts: list[Account], period: Period) -> str:
    """Catch the accounts' sums up where their ledger moved, and return the key their insights over `period`
    are cached under (the insights page caches its charts beside them, under this key and a suffix). Raises
    `InsightsPending` when an account's sums are too far behind its ledger to catch up in the request."""
    states = _states(accounts)
    behind, caught = rollup.catch_up_for_request(accounts, states)
    if behind:
        raise InsightsPending(behind)
    if caught:
        states = _states(accounts)
    return cache_key(states, period)


def insights(*, accounts: list[Account], period: Period) -> Insights:
    """The insights of these accounts (the caller's own: `insights_accounts`) over `period` (`InsightsPending`
    as `insights_key`)."""
    key = insights_key(accounts=accounts, period=period)
    found = cache.get(key)
    if found is not None:
        return found
    result = compute(account_ids=[a.pk for a in accounts], period=period)
    cache.set(key, result, CACHE_SECONDS)
    return result


def compute(*, account_ids: list[int], period: Period) -> Insights:
    """The insights from the daily sums (uncached; the sums must have caught up)."""
    previous = period.previous()
    names = dict(Category.objects.values_list("slug", "name"))
    rows = (
        DayCategory.objects.filter(account_id__in=account_ids, day__gte=previous.start, day__lte=period.end)
        .values_list("day", "category_id", "own", "in_paise", "out_paise", "entries")
        .order_by()
    )
    spent: dict[str, int] = defaultdict(int)
    received: dict[str, int] = defaultdict(int)
    counts: dict[str, int] = defaultdict(int)
    previous_spent: dict[str, int] = defaultdict(int)
    previous_income = moved = 0
    months = {m: MonthTotal(m, 0, 0, defaultdict(int)) for m in period.months()}
    income_by_month: dict[datetime.date, int] = defaultdict(int)
    spending_by_month: dict[datetime.date, int] = defaultdict(int)
    for day, category, own, money_in, money_out, entries in rows:
        if day < period.start:
            if day >= previous.start and day <= previous.end and not own:
                previous_spent[category] += money_out
                previous_income += money_in
            continue
        if own:
            moved += money_out
            continue
        spent[category] += money_out
        received[category] += money_in
        counts[category] += entries
        month = day.replace(day=1)
        months[month].by_category[category] += money_out
        income_by_month[month] += money_in
        spending_by_month[month] += money_out
    categories = sorted(
        (
            CategoryTotal(
                slug=slug,
                name=names.get(slug, slug),
                spent=spent[slug],
                received=received[slug],
                entries=counts[slug],
                previous_spent=previous_spent.get(slug, 0),
            )
            for slug in set(spent) | set(received)
            if spent[slug] or received[slug]
        ),
        key=lambda c: (-c.spent, -c.received, c.name),
    )
    month_list = [
        MonthTotal(m, income_by_month[m], spending_by_month[m], dict(months[m].by_category)) for m in months
    ]
    return Insights(
        period=period,
        previous=previous,
        account_ids=tuple(sorted(account_ids)),
        categories=categories,
        months=month_list,
        balance=_balance(account_ids, period),
        merchants=_merchants(account_ids, period),
        income=sum(received.values()),
        spending=sum(spent.values()),
        previous_income=previous_income,
        previous_spending=sum(previous_spent.values()),
        moved_between_own=moved,
    )


def _balance(account_ids: list[int], period: Period) -> list[BalancePoint]:
    """Each day's closing balance of the accounts together, from the period's start to its end or today:
    a day with no entry keeps the day before's. The opening comes from each account's last day before."""
    end = min(period.end, timezone.localdate())
    if end < period.start:
        return []
    before = DayBalance.objects.filter(account_id=OuterRef("pk"), day__lt=period.start).order_by("-day")
    opening = dict(
        Account.objects.filter(pk__in=account_ids)
        .annotate(opening=Subquery(before.values("closing_paise")[:1]))
        .values_list("pk", "opening")
    )
    opening = {pk: value or 0 for pk, value in opening.items()}
    changes: dict[datetime.date, dict[int, int]] = defaultdict(dict)
    for account_id, day, closing in (
        DayBalance.objects.filter(account_id__in=account_ids, day__gte=period.start, day__lte=end)
        .values_list("account_id", "day", "closing_paise")
        .order_by("day")
    ):
        changes[day][account_id] = closing
    points, current = [], dict(opening)
    day = period.start
    while day <= end:
        current.update(changes.get(day, {}))
        points.append(BalancePoint(day, sum(current.values())))
        day += datetime.timedelta(days=1)
    return points


def _merchants(account_ids: list[int], period: Period) -> list[MerchantTotal]:
    rows = (
        DayMerchant.objects.filter(account_id__in=account_ids, day__gte=period.start, day__lte=period.end)
        .values("counterparty")
        .annotate(spent=Sum("out_paise"), n=Sum("entries"))
        .order_by("-spent", "counterparty")[:TOP_MERCHANTS]
    )
    return [MerchantTotal(r["counterparty"], r["spent"], r["n"]) for r in rows]
