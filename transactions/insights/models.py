"""A customer's side of the ledger: how they categorise their entries, and the daily sums that the insights
page reads instead of the entries themselves (transactions/insights/rollup.py).

The ledger stays untouched. A transaction's `category` is the bank's (set when it was posted, the same for
both parties); a customer's own choice lives here, per entry (one leg, on one account, of one customer):
`EntryCategory`, written when they recategorise a row (`manual`) or when one of their rules matches it
(`rule`, or `default` for the bank's rules that fill in what the posting left uncategorised). The category a
customer sees is the first of: their annotation, the transaction's category, "other".
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from transactions.models import Category, Entry


class CategoryRule(models.Model):
    """ "Counterparty contains Swiggy → dining": applied to a customer's new entries when the daily sums
    catch up with the ledger (rollup.py), and to past ones when they ask (a backfill). A rule with no owner
    is one of the bank's default rules: it fills in only entries whose transaction has no category."""

    class Field(models.TextChoices):
        COUNTERPARTY = "counterparty", "Counterparty"
        DESCRIPTION = "description", "Description"
        EITHER = "either", "Counterparty or description"

    class Direction(models.TextChoices):
        ANY = "any", "Money in or out"
        OUT = "out", "Money out"
        IN = "in", "Money in"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="category_rules",
        help_text="Empty: one of the bank's default rules.",
    )
    field = models.CharField(max_length=12, choices=Field.choices, default=Field.COUNTERPARTY)
    contains = models.CharField(max_length=60, help_text="Matched case-insensitively anywhere in the field.")
    direction = models.CharField(max_length=3, choices=Direction.choices, default=Direction.ANY)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField(
        default=0, help_text="Lower first: the first rule that matches wins."
    )
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["position", "id"]
        constraints = [
            models.CheckConstraint(condition=~Q(contains=""), name="categoryrule_contains_not_empty"),
        ]
        indexes = [models.Index(fields=["owner", "position"], name="categoryrule_owner_position")]

    def __str__(self) -> str:
        return f"{self.get_field_display()} contains “{self.contains}” → {self.category_id}"

    def matches(self, *, counterparty: str, description: str, amount: int) -> bool:
        """Whether this rule categorises an entry (of `amount` paise, signed) with these texts."""
        if self.direction == self.Direction.OUT and amount > 0:
            return False
        if self.direction == self.Direction.IN and amount < 0:
            return False
        needle = self.contains.casefold()
        if self.field != self.Field.DESCRIPTION and needle in counterparty.casefold():
            return True
        return self.field != self.Field.COUNTERPARTY and needle in description.casefold()


class EntryCategory(models.Model):
    """The category a customer gave one of their entries (or one of their rules did)."""

    class Source(models.TextChoices):
        MANUAL = "manual", "Chosen by the customer"
        RULE = "rule", "The customer's rule"
        DEFAULT = "default", "The bank's default rule"

    entry = models.OneToOneField(
        Entry, primary_key=True, on_delete=models.PROTECT, related_name="customer_category"
    )
    # The entry's account, copied: a backfill and the daily sums read one account's annotations.
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    source = models.CharField(max_length=8, choices=Source.choices)
    rule = models.ForeignKey(CategoryRule, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "entry categories"
        indexes = [models.Index(fields=["account", "entry"], name="entrycategory_account")]

    def __str__(self) -> str:
        return f"entry {self.entry_id} → {self.category_id} ({self.source})"


class RollupState(models.Model):
    """How far an account's daily sums have caught up with its ledger: entries up to `last_entry_id` are
    in them. Its row is the lock that the catch-up, a recategorisation and a backfill take, one at a time.
    `version` moves whenever the sums change for another reason than new entries (a recategorisation, a
    rule backfill): the insights cache keys on it beside the account's `ledger_version`."""

    account = models.OneToOneField(Account, primary_key=True, on_delete=models.PROTECT, related_name="+")
    last_entry_id = models.BigIntegerField(default=0)
    ledger_version = models.BigIntegerField(
        default=-1, help_text="The account's ledger version last caught up."
    )
    version = models.BigIntegerField(default=0)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"rollup of account {self.account_id} up to entry {self.last_entry_id}"


class DayBalance(models.Model):
    """One account's day in India: its closing balance and how much came in and went out."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    closing_paise = models.BigIntegerField()
    in_paise = models.BigIntegerField()
    out_paise = models.BigIntegerField(help_text="Positive: what left the account.")
    entries = models.IntegerField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["account", "day"], name="daybalance_account_day")]

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}"


class DayCategory(models.Model):
    """One account's sums for one category on one day. `own`: moves between the customer's own accounts
    (neither spending nor income)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+", db_index=False)
    own = models.BooleanField()
    in_paise = models.BigIntegerField()
    out_paise = models.BigIntegerField()
    entries = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "category", "own"], name="daycategory_key")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}: {self.category_id}"


class DayMerchant(models.Model):
    """What one account paid one counterparty on one day (money out only, own accounts left out)."""

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    day = models.DateField()
    counterparty = models.CharField(max_length=140)
    out_paise = models.BigIntegerField()
    entries = models.IntegerField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["account", "day", "counterparty"], name="daymerchant_key")
        ]

    def __str__(self) -> str:
        return f"account {self.account_id} on {self.day}: {self.counterparty}"


class RuleBackfill(models.Model):
    """A customer's request to apply their rules to past entries: run by a Celery task
    (`rule_backfill_run_task`), which moves `done` towards `total` as it goes."""

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Running"
        DONE = "done", "Done"
        FAILED = "failed", "Failed"

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    status = models.CharField(max_length=8, choices=Status.choices, default=Status.QUEUED)
    total = models.BigIntegerField(default=0, help_text="Entries to look at.")
    done = models.BigIntegerField(default=0)
    changed = models.BigIntegerField(default=0, help_text="Entries whose category changed.")
    error = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(default=timezone.now)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self) -> str:
        return f"rule backfill #{self.pk} ({self.status})"

    @property
    def percent(self) -> int:
        if self.status == self.Status.DONE:
            return 100
        return min(99, self.done * 100 // self.total) if self.total else 0


class Budget(models.Model):
    """A customer's monthly budget for one category (money out, all their accounts)."""

    owner = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="budgets")
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    amount_paise = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["category__name"]
        constraints = [
            models.UniqueConstraint(fields=["owner", "category"], name="budget_owner_category"),
            models.CheckConstraint(condition=Q(amount_paise__gt=0), name="budget_amount_positive"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} budget of user {self.owner_id}"


class BudgetAlert(models.Model):
    """A budget alert sent: one per (customer, category, month, level), whatever sends it twice."""

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", db_index=False
    )
    category = models.ForeignKey(Category, on_delete=models.PROTECT, related_name="+")
    month = models.DateField(help_text="The first day of the month in India.")
    level = models.PositiveSmallIntegerField(help_text="Percent of the budget crossed: 80 or 100.")
    spent_paise = models.BigIntegerField()
    budget_paise = models.BigIntegerField()
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["owner", "category", "month", "level"], name="budgetalert_once"),
        ]

    def __str__(self) -> str:
        return f"{self.category_id} {self.level}% alert of user {self.owner_id} for {self.month:%B %Y}"
