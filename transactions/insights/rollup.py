"""The daily sums the insights page reads: per account and day in India, the closing balance, money in and
out (`DayBalance`), the same per category (`DayCategory`) and money out per counterparty (`DayMerchant`).

Why sums and not the entries: a year of an account with a million entries is about 330,000 rows, and one
GROUP BY over them (joined to their transactions for the category) took 365 ms on this machine; a page has
five such questions. A year of daily sums is at most a few thousand rows, whatever the account's traffic.

How they stay true (`catch_up`), under the account's `RollupState` row lock:
- Entries of one account get their ids under that account's row lock (the posting locks it first), so an
  account's entries commit in id order: once entry n is visible, every earlier entry of the account is.
  `last_entry_id` is therefore a watermark: the entries above it are the new ones.
- New entries are always the account's newest (their `created` never goes back: services `_posting_time`),
  so they fall on the last day already summed or later. The catch-up applies the customer's rules to the
  new entries (writing `EntryCategory` rows; a category the customer chose stays), then recomputes every
  day from the first new entry's day on: deletes those days' sums and writes them again from the entries.
  Recomputing a whole day, never adding to it, means a sum cannot drift from its entries.
- A recategorisation or a backfill recomputes the days it touched (`recompute_days`) and moves `version`.
It runs when a customer opens the insights page on an account whose `ledger_version` moved since the last
catch-up, and every few minutes for every such account (`rollups_catch_up_task`).
"""

import datetime
from collections.abc import Iterable, Sequence

from django.db import connection, transaction
from django.db.models import (
    BooleanField,
    Case,
    Count,
    F,
    IntegerField,
    Max,
    Q,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.utils import timezone

from accounts.models import Account
from portal.celery import app as celery_app

# effective_category: defined beside the history filter (which reads it too, and which this module imports).
from transactions.history.filters import OTHER, day_start, effective_category
from transactions.insights.models import (
    Budget,
    CategoryRule,
    DayBalance,
    DayCategory,
    DayMerchant,
    EntryCategory,
    RollupState,
)
from transactions.models import Entry, Transaction

# More new entries than this and a page hands the catch-up to a worker (selectors.InsightsPending): a year of
# a busy merchant's account takes seconds to sum; a day of anyone's, milliseconds.
INLINE_CATCH_UP_MAX = 20_000
CATCH_UP_TASK = "transactions.insights.tasks.rollup_catch_up_task"
# How many new entries one catch-up statement reads at most (a first catch-up of a long history reads all).
RULES_BATCH = 5_000


def local_tz() -> datetime.tzinfo:
    return timezone.get_default_timezone()


def local_day(moment: datetime.datetime) -> datetime.date:
    return timezone.localtime(moment).date()


def entry_counterparty() -> Coalesce:
    """Whom the entry's holder dealt with (SQL): the entry's own counterparty, else the transaction's."""
    return Coalesce(NullIf("counterparty", Value("")), "transaction__counterparty")


def own_transfer() -> Case:
    """Whether the entry moves money between two accounts of one customer (SQL): a `transfer` transaction
    (transactions/services.py `transfer_create`: only between the initiator's own accounts)."""
    return Case(
        When(transaction__kind=Transaction.Kind.TRANSFER, then=Value(True)),
        default=Value(False),
        output_field=BooleanField(),
    )


def _money_in() -> Sum:
    return Sum(Case(When(amount__gt=0, then=F("amount")), default=Value(0)), output_field=IntegerField())


def _money_out() -> Sum:
    return Sum(Case(When(amount__lt=0, then=-F("amount")), default=Value(0)), output_field=IntegerField())


def _state_for_update(account_id: int) -> RollupState:
    RollupState.objects.get_or_create(account_id=account_id)
    return RollupState.objects.select_for_update().get(account_id=account_id)


def entries_behind(account: Account, state: RollupState | None) -> int:
    """How many entries the account's sums lack, without counting them: every posting adds one entry to
    each account it touches and one to its `ledger_version`."""
    return account.ledger_version - max(state.ledger_version if state else 0, 0)


def catch_up_later(account_ids: list[int]) -> None:
    """Hand these accounts' catch-up to a worker, after the current transaction commits."""
    for account_id in account_ids:
        # By the task's name: tasks.py imports this module.
        task = celery_app.signature(CATCH_UP_TASK, args=(account_id,))
        transaction.on_commit(task.delay)


def needs_catch_up(accounts: Iterable[Account], states: dict[int, RollupState]) -> list[Account]:
    """The accounts whose ledger moved since their sums last caught up."""
    return [a for a in accounts if a.pk not in states or states[a.pk].ledger_version != a.ledger_version]


def catch_up_for_request(
    accounts: list[Account], states: dict[int, RollupState]
) -> tuple[list[Account], bool]:
    """What a page does before it reads the sums: catch up each account whose ledger moved and that is near
    enough to sum while the customer waits; hand the ones further behind than INLINE_CATCH_UP_MAX to a worker.
    Returns the accounts handed over (their sums are not yet whole) and whether anything was caught up."""
    behind: list[Account] = []
    caught = False
    for account in needs_catch_up(accounts, states):
        if entries_behind(account, states.get(account.pk)) > INLINE_CATCH_UP_MAX:
            behind.append(account)
        else:
            catch_up(account.pk)
            caught = True
    if behind:
        catch_up_later([a.pk for a in behind])
    return behind, caught


def catch_up(account_id: int) -> bool:
    """Bring the account's daily sums up to its ledger; True if anything was new. Idempotent: a second call
    finds nothing above the watermark. New entries of a customer with budgets may cross one: their check is
    queued after commit (one EXISTS, only when something was new)."""
    with transaction.atomic():
        state = _state_for_update(account_id)
        version, owner_id = (
            Account.objects.filter(pk=account_id).values_list("ledger_version", "owner_id").get()
        )
        if state.ledger_version == version and state.last_entry_id:
            return False
        first = (
            Entry.objects.filter(account_id=account_id, id__gt=state.last_entry_id)
            .order_by("id")
            .values_list("id", "created")
            .first()
        )
        if first is None:
            state.ledger_version = version
            state.updated_at = timezone.now()
            state.save(update_fields=["ledger_version", "updated_at"])
            return False
        last_id = Entry.objects.filter(account_id=account_id).aggregate(m=Max("id"))["m"]
        apply_rules(account_id, id_after=state.last_entry_id, id_to=last_id, replace=False)
        _recompute(account_id, since=local_day(first[1]))
        state.last_entry_id = last_id
        state.ledger_version = version
        state.updated_at = timezone.now()
        state.save(update_fields=["last_entry_id", "ledger_version", "updated_at"])
        if owner_id is not None and Budget.objects.filter(owner_id=owner_id).exists():
            queue_alerts_check(owner_id)
        return True


ALERTS_TASK = "transactions.insights.tasks.budget_alerts_check_task"


def queue_alerts_check(user_id: int) -> None:
    """Check the user's budgets (transactions/insights/budgets.py) in the background once the current
    transaction commits. Sent by the task's name: the task module imports this one."""
    transaction.on_commit(lambda: celery_app.signature(ALERTS_TASK, args=(user_id,)).delay())


def _rules_for(owner_id: int | None) -> tuple[list[CategoryRule], list[CategoryRule]]:
    """The customer's rules, then the bank's defaults, each in the order they are tried."""
    rules = list(
        CategoryRule.objects.filter(Q(owner_id=owner_id) | Q(owner__isnull=True)).order_by("position", "id")
    )
    return [r for r in rules if r.owner_id is not None], [r for r in rules if r.owner_id is None]


def category_by_rules(
    own: Sequence[CategoryRule],
    defaults: Sequence[CategoryRule],
    *,
    counterparty: str,
    description: str,
    amount: int,
    bank_category: str | None,
) -> tuple[CategoryRule, str] | None:
    """The rule that categorises an entry and the source it writes, or None: the customer's first matching
    rule; else, if the bank left the transaction uncategorised, the first matching default rule."""
    for rule in own:
        if rule.matches(counterparty=counterparty, description=description, amount=amount):
            return rule, EntryCategory.Source.RULE
    if bank_category is None:
        for rule in defaults:
            if rule.matches(counterparty=counterparty, description=description, amount=amount):
                return rule, EntryCategory.Source.DEFAULT
    return None


def apply_rules(
    account_id: int, *, id_after: int, id_to: int, replace: bool
) -> tuple[int, set[datetime.date]]:
    """Categorise the account's entries with ids in (id_after, id_to] by the owner's rules (then the bank's
    defaults). A category the customer chose by hand always stays. `replace`: a backfill: annotations made by
    rules are brought to what today's rules say (removed where no rule matches any more); otherwise only
    entries with no annotation get one. Returns how many entries changed category and their days."""
    owner_id = Account.objects.filter(pk=account_id).values_list("owner_id", flat=True).get()
    own, defaults = _rules_for(owner_id)
    if not own and not defaults and not replace:
        return 0, set()
    rows = (
        Entry.objects.filter(account_id=account_id, id__gt=id_after, id__lte=id_to)
        .annotate(
            party=entry_counterparty(),
            text=F("transaction__description"),
            bank=F("transaction__category_id"),
            mine=F("customer_category__category_id"),
            source=F("customer_category__source"),
        )
        .values_list("id", "created", "amount", "party", "text", "bank", "mine", "source")
        .order_by("id")
    )
    now = timezone.now()
    create: list[EntryCategory] = []
    update: list[EntryCategory] = []
    drop: list[int] = []
    days: set[datetime.date] = set()
    for entry_id, created, amount, party, text, bank, mine, source in rows.iterator(chunk_size=RULES_BATCH):
        if source == EntryCategory.Source.MANUAL:
            continue
        found = category_by_rules(
            own, defaults, counterparty=party or "", description=text or "", amount=amount, bank_category=bank
        )
        before = mine or bank or OTHER
        if found is None:
            if source is not None and replace:
                drop.append(entry_id)
                if before != (bank or OTHER):
                    days.add(local_day(created))
            continue
        rule, how = found
        if source is None:
            create.append(
                EntryCategory(
                    entry_id=entry_id,
                    account_id=account_id,
                    category_id=rule.category_id,
                    source=how,
                    rule=rule,
                    updated_at=now,
                )
            )
        elif replace and (mine != rule.category_id or source != how):
            update.append(
                EntryCategory(
                    entry_id=entry_id, category_id=rule.category_id, source=how, rule=rule, updated_at=now
                )
            )
        else:
            continue
        if before != rule.category_id:
            days.add(local_day(created))
    EntryCategory.objects.bulk_create(create, batch_size=RULES_BATCH, ignore_conflicts=True)
    EntryCategory.objects.bulk_update(
        update, ["category", "source", "rule", "updated_at"], batch_size=RULES_BATCH
    )
    if drop:
        EntryCategory.objects.filter(
            entry_id__in=drop, source__in=[EntryCategory.Source.RULE, EntryCategory.Source.DEFAULT]
        ).delete()
    return len(create) + len(update) + len(drop), days


def recompute_days(account_id: int, days: Iterable[datetime.date]) -> None:
    """Recompute the sums of these days (after a recategorisation or a backfill, which hold the state's lock).
    Only the category sums depend on categories: the balances and merchants stay."""
    for day in sorted(set(days)):
        _recompute(account_id, since=day, until=day, balances=False)


def _recompute(
    account_id: int, *, since: datetime.date, until: datetime.date | None = None, balances: bool = True
) -> None:
    """Delete and rewrite the sums of the days since..until (inclusive; no end: to the newest entry)."""
    entries = Entry.objects.filter(account_id=account_id, created__gte=day_start(since))
    days = Q(account_id=account_id, day__gte=since)
    if until is not None:
        entries = entries.filter(created__lt=day_start(until + datetime.timedelta(days=1)))
        days &= Q(day__lte=until)
    by_day = entries.annotate(d=TruncDate("created", tzinfo=local_tz()))
    DayCategory.objects.filter(days).delete()
    DayCategory.objects.bulk_create(
        [
            DayCategory(
                account_id=account_id,
                day=row["d"],
                category_id=row["cat"],
                own=row["own"],
                in_paise=row["money_in"],
                out_paise=row["money_out"],
                entries=row["n"],
            )
            for row in by_day.annotate(cat=effective_category(), own=own_transfer())
            .values("d", "cat", "own")
            .annotate(money_in=_money_in(), money_out=_money_out(), n=Count("id"))
            .order_by()
            .iterator(chunk_size=5_000)
        ],
        batch_size=5_000,
    )
    if not balances:
        return
    DayBalance.objects.filter(days).delete()
    sums = list(
        by_day.values("d")
        .annotate(money_in=_money_in(), money_out=_money_out(), n=Count("id"), last_id=Max("id"))
        .order_by()
    )
    # Each day's closing balance: the balance after its last entry (ids follow the account's posting order).
    closing: dict[int, int] = {}
    last_ids = [row["last_id"] for row in sums]
    for at in range(0, len(last_ids), 5_000):
        closing.update(
            Entry.objects.filter(pk__in=last_ids[at : at + 5_000]).values_list("pk", "balance_after")
        )
    DayBalance.objects.bulk_create(
        [
            DayBalance(
                account_id=account_id,
                day=row["d"],
                closing_paise=closing[row["last_id"]],
                in_paise=row["money_in"],
                out_paise=row["money_out"],
                entries=row["n"],
            )
            for row in sums
        ],
        batch_size=5_000,
    )
    DayMerchant.objects.filter(days).delete()
    DayMerchant.objects.bulk_create(
        [
            DayMerchant(
                account_id=account_id,
                day=row["d"],
                counterparty=row["party"],
                out_paise=row["money_out"],
                entries=row["n"],
            )
            for row in by_day.filter(amount__lt=0)
            .exclude(transaction__kind=Transaction.Kind.TRANSFER)
            .annotate(party=entry_counterparty())
            .exclude(party="")
            .values("d", "party")
            .annotate(money_out=_money_out(), n=Count("id"))
            .order_by()
            .iterator(chunk_size=5_000)
        ],
        batch_size=5_000,
    )


def rebuild(account_id: int) -> None:
    """Forget the account's sums and build them again from its whole history (staff, tests, a bench)."""
    with transaction.atomic():
        state = _state_for_update(account_id)
        DayCategory.objects.filter(account_id=account_id).delete()
        DayBalance.objects.filter(account_id=account_id).delete()
        DayMerchant.objects.filter(account_id=account_id).delete()
        state.last_entry_id = 0
        state.ledger_version = -1
        state.version += 1
        state.save(update_fields=["last_entry_id", "ledger_version", "version"])
    catch_up(account_id)


def uses_postgresql() -> bool:
    return connection.vendor == "postgresql"
