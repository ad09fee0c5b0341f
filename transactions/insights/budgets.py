"""A customer's monthly budgets per category: setting and removing them, how much of each this month's
spending used, and the alerts at 80 % and 100 %.

Spending is money out of all the customer's accounts in the category during a month in India, read from the
daily sums (`DayCategory`, caught up first where the ledger moved) and never from the entries; moves
between their own accounts are not spending. Refunds into the category do not lower it: the insights page
counts them as money in, and a budget that went down again after an alert would only confuse.

Alerts: each level (80 %, 100 %) is sent at most once per customer, category and month, whatever runs the
check and however often. The `BudgetAlert` row is the proof: it is inserted before the email is queued, in
the same transaction, and its unique constraint turns a second insert (a second worker, a retry) into an
IntegrityError in a savepoint, so that only the transaction that inserted it queues the email (after commit:
`accounts.notifications.notify`). When one check finds both levels newly crossed (one payment went from
below 80 % to past 100 %) it records both and emails only the 100 % one: an 80 % warning about a budget
already spent is noise, and recording it keeps it from arriving later in the month.
"""

import datetime
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts.models import Account, User
from accounts.notifications import notify
from portal.audit import audit_record
from portal.money import format_paise, format_paise_short
from transactions.insights import rollup
from transactions.insights.models import Budget, BudgetAlert, DayCategory, RollupState
from transactions.insights.periods import add_months, month_start, today
from transactions.models import Category

# The most a monthly budget may be: ₹1 crore.
BUDGET_MAX_PAISE = 1_00_00_000_00
NEAR, OVER = 80, 100
LEVELS = (NEAR, OVER)
ALERT_KINDS = {NEAR: "budget_near", OVER: "budget_over"}


class BudgetError(Exception):
    """A budget the customer asked for cannot be set; the message can be shown as is."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.message = message
        self.code = code


@dataclass(frozen=True)
class BudgetProgress:
    """One budget against one month's spending."""

    category: str  # slug
    name: str
    budget: int  # paise
    spent: int  # paise out this month in the category, all the customer's accounts

    @property
    def percent(self) -> int:
        """Whole percent used, rounded down (79.9 % is not yet 80 %: the alert and the bar agree)."""
        return self.spent * 100 // self.budget

    @property
    def state(self) -> str:
        """ "ok" below 80 %, "near" from 80 %, "over" from 100 % (all of it used)."""
        if self.spent >= self.budget:
            return "over"
        return "near" if self.spent * 100 >= self.budget * NEAR else "ok"

    @property
    def remaining(self) -> int:
        """Paise left this month (negative: over by that much)."""
        return self.budget - self.spent

    @property
    def over_by(self) -> int:
        return max(-self.remaining, 0)

    @property
    def bar_value(self) -> int:
        """The progress bar's value: a bar cannot go past its end."""
        return min(self.spent, self.budget)


def budget_set(*, user: User, category: str, amount_paise: int) -> Budget:
    """Set (or change) the user's monthly budget for a category. A budget set below what the month already
    spent alerts at once: the check is queued after commit."""
    if not 0 < amount_paise <= BUDGET_MAX_PAISE:
        raise BudgetError(
            _("Enter a budget greater than zero and at most %(max)s.")
            % {"max": format_paise_short(BUDGET_MAX_PAISE)},
            code="amount_range",
        )
    chosen = Category.objects.filter(slug=category).first()
    if chosen is None:
        raise BudgetError(_("Choose one of the categories."), code="category_unknown")
    with transaction.atomic():
        budget = Budget.objects.select_for_update().filter(owner=user, category=chosen).first()
        before = {"amount_paise": budget.amount_paise} if budget else None
        if budget is None:
            # Two first budgets for one category at once: the unique constraint keeps one; the other is
            # this customer's own double submit, which then changes it instead.
            try:
                with transaction.atomic():
                    budget = Budget.objects.create(owner=user, category=chosen, amount_paise=amount_paise)
            except IntegrityError:
                budget = Budget.objects.select_for_update().get(owner=user, category=chosen)
                before = {"amount_paise": budget.amount_paise}
        if before is not None:
            budget.amount_paise = amount_paise
            budget.updated_at = timezone.now()
            budget.save(update_fields=["amount_paise", "updated_at"])
        audit_record(
            action="budget.set",
            actor=user,
            obj=budget,
            before={"category": chosen.slug, **before} if before else None,
            after={"category": chosen.slug, "amount_paise": amount_paise},
        )
        rollup.queue_alerts_check(user.pk)
    return budget


def budget_remove(*, user: User, category: str) -> None:
    """Remove the user's budget for a category. None there is `Budget.DoesNotExist` (a 404 for a view).
    The month's alerts already sent stay recorded: setting it again this month does not send them twice."""
    with transaction.atomic():
        budget = Budget.objects.select_for_update().get(owner=user, category_id=category)
        before = {"category": budget.category_id, "amount_paise": budget.amount_paise}
        budget_id = budget.pk
        budget.delete()
        audit_record(
            action="budget.remove",
            actor=user,
            object_type="insights.budget",
            object_id=str(budget_id),
            before=before,
        )


def _caught_up_accounts(user: User) -> list[int]:
    """The ids of the user's accounts, their daily sums first caught up where the ledger moved (as the
    insights page does: rollup.catch_up is idempotent and cheap when nothing is new). An account too far
    behind to sum in the request is handed to a worker and counts what it has summed so far."""
    accounts = list(Account.objects.filter(owner=user).only("pk", "ledger_version").order_by("pk"))
    states = {s.account_id: s for s in RollupState.objects.filter(account_id__in=[a.pk for a in accounts])}
    rollup.catch_up_for_request(accounts, states)
    return [a.pk for a in accounts]


def month_spending(*, account_ids: list[int], month: datetime.date, categories: list[str]) -> dict[str, int]:
    """Paise out in each of these categories during the month (`month`: its first day), own transfers left
    out. From the daily sums: the caller catches them up."""
    rows = (
        DayCategory.objects.filter(
            account_id__in=account_ids,
            category_id__in=categories,
            own=False,
            day__gte=month,
            day__lt=add_months(month, 1),
        )
        .values("category_id")
        .annotate(spent=Sum("out_paise"))
        .order_by()
    )
    return {row["category_id"]: row["spent"] for row in rows}


def budget_progress(*, user: User, month: datetime.date | None = None) -> list[BudgetProgress]:
    """The user's budgets, by category name, each with the month's spending (`month`: any day of it;
    default this month in India). Four queries when the sums are caught up, whatever the number of budgets
    and accounts."""
    month = month_start(month or today())
    budgets = list(Budget.objects.filter(owner=user).select_related("category").order_by("category__name"))
    if not budgets:
        return []
    account_ids = _caught_up_accounts(user)
    spent = month_spending(account_ids=account_ids, month=month, categories=[b.category_id for b in budgets])
    return [
        BudgetProgress(
            category=b.category_id,
            name=b.category.name,
            budget=b.amount_paise,
            spent=spent.get(b.category_id, 0),
        )
        for b in budgets
    ]


def _record(user_id: int, row: BudgetProgress, month: datetime.date, level: int) -> bool:
    """Insert the alert's row; False if it was already there (another check recorded it first: the unique
    constraint, which waits for that check's transaction to end)."""
    try:
        with transaction.atomic():
            BudgetAlert.objects.create(
                owner_id=user_id,
                category_id=row.category,
                month=month,
                level=level,
                spent_paise=row.spent,
                budget_paise=row.budget,
            )
    except IntegrityError:
        return False
    return True


def budget_alerts_check(user_id: int) -> list[tuple[str, int]]:
    """Alert the user about each budget this month's spending crossed (80 %, 100 %) and no alert was
    recorded for yet this month in India. Returns the (category, level) emailed. Safe to run twice, or
    twice at once: see the module's docstring."""
    user = User.objects.filter(pk=user_id).first()
    if user is None:
        return []
    month = month_start(today())
    progress = budget_progress(user=user, month=month)
    if not progress:
        return []
    recorded = set(
        BudgetAlert.objects.filter(owner_id=user_id, month=month).values_list("category_id", "level")
    )
    sent = []
    for row in progress:
        crossed = [
            level
            for level in LEVELS
            if row.spent * 100 >= row.budget * level and (row.category, level) not in recorded
        ]
        if not crossed:
            continue
        with transaction.atomic():
            new = [level for level in crossed if _record(user_id, row, month, level)]
            if not new:
                continue
            level = max(new)
            notify(
                user,
                ALERT_KINDS[level],
                category=row.name,
                spent=format_paise(row.spent),
                budget=format_paise_short(row.budget),
                remaining=format_paise(max(row.remaining, 0)),
                over_by=format_paise(-row.remaining) if row.remaining < 0 else "",
                percent=row.percent,
                month=f"{month:%B %Y}",
            )
            sent.append((row.category, level))
    return sent
