"""The ledger: double entry, append-only, kept honest by PostgreSQL (see migrations 0003)."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from accounts.models import Account
from portal.money import format_paise


class Category(models.Model):
    slug = models.SlugField(max_length=30, primary_key=True)
    name = models.CharField(max_length=60)

    class Meta:
        ordering = ["name"]
        verbose_name_plural = "categories"

    def __str__(self) -> str:
        return self.name


class Transaction(models.Model):
    """One movement of money. Its entries sum to zero; it is never edited, only reversed."""

    class Kind(models.TextChoices):
        TRANSFER = "transfer", "Transfer"
        DEPOSIT = "deposit", "Deposit"
        WITHDRAWAL = "withdrawal", "Withdrawal"
        CARD = "card", "Card payment"
        UPI = "upi", "UPI payment"
        SALARY = "salary", "Salary"
        INTEREST = "interest", "Interest"
        FEE = "fee", "Fee"
        REVERSAL = "reversal", "Reversal"
        PAYEE = "payee", "Transfer to payee"  # to a payee who banks with us: credited in our ledger
        OUTWARD = "outward", "Payment to another bank"  # to a payee at another bank, through settlement

    kind = models.CharField(max_length=12, choices=Kind.choices)
    description = models.CharField(max_length=140, blank=True)
    counterparty = models.CharField(max_length=140, blank=True)
    # Categories are never deleted (admin refuses): no index on a column of every transaction for it.
    category = models.ForeignKey(Category, null=True, blank=True, on_delete=models.PROTECT, db_index=False)
    initiator = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The person who asked for it; empty for the bank's own postings.",
        db_index=False,  # transaction_initiator_key_unique leads with initiator
    )
    idempotency_key = models.CharField(max_length=100)
    created = models.DateTimeField(default=timezone.now)
    reversal_of = models.OneToOneField(
        "self", null=True, blank=True, on_delete=models.PROTECT, related_name="reversed_by"
    )
    # The payee paid (kinds payee and outward): their cooling-off cap counts what was sent to them today.
    payee = models.ForeignKey(
        "accounts.Payee", null=True, blank=True, on_delete=models.PROTECT, related_name="+", db_index=False
    )

    class Meta:
        ordering = ["-created", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiator", "idempotency_key"], name="transaction_initiator_key_unique"
            ),
            # PostgreSQL never treats two NULL initiators as equal: system postings need their own index.
            models.UniqueConstraint(
                fields=["idempotency_key"],
                condition=Q(initiator__isnull=True),
                name="transaction_system_key_unique",
            ),
        ]
        indexes = [
            # What a customer sent to others today (the daily limit) and to one payee (the new-payee cap).
            models.Index(
                fields=["initiator", "created"],
                condition=Q(kind__in=["payee", "outward"]),
                name="transaction_to_others",
            ),
            models.Index(
                fields=["payee", "created"], condition=Q(payee__isnull=False), name="transaction_payee"
            ),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"

    @property
    def reference(self) -> str:
        """What a customer reads on the receipt and quotes to the bank: "SB" and the id in ten digits
        (staff search it in the admin: transactions/admin.py reads it back)."""
        return f"SB{self.pk:010d}"


class TransferLimits(models.Model):
    """A customer's limits on money sent to others (payees), and the row that such a transfer locks while
    it checks them: two transfers of one customer, from any of their accounts, pass the check one at a
    time, so two cannot both fit under a limit that only one fits (transactions/limits.py).

    Two kinds of limit, each a day's total and one transfer's amount, the lower of the two applying:
    - the bank's, set by staff per customer (empty: the settings' defaults);
    - the customer's own, lower ones (empty: none). Lowering applies at once; a raise (or removing one)
      waits `settings.TRANSFER_LIMIT_RAISE_DELAY`: the new pair is kept in `pending_*` with `pending_from`,
      and from that time it is the customer's own pair (`limits.own_limits`). No job moves it across: the
      limits at any time are computed from the row, and the next change writes the pair it found in force.
    """

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, primary_key=True, on_delete=models.PROTECT, related_name="transfer_limits"
    )
    daily_paise = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Paise a day this customer may send to others, set by staff; empty for the bank's default.",
    )
    per_transfer_paise = models.BigIntegerField(
        null=True,
        blank=True,
        help_text="Paise this customer may send to others in one transfer, set by staff; empty for the "
        "bank's default.",
    )
    own_daily_paise = models.BigIntegerField(
        null=True, blank=True, help_text="The customer's own lower daily limit; empty for none."
    )
    own_per_transfer_paise = models.BigIntegerField(
        null=True, blank=True, help_text="The customer's own lower per-transfer limit; empty for none."
    )
    pending_daily_paise = models.BigIntegerField(null=True, blank=True)
    pending_per_transfer_paise = models.BigIntegerField(null=True, blank=True)
    # What the customer sent to others on `sent_on` (a day in India), kept by payee_transfer_create under
    # this row's lock: the daily limit's check reads it instead of summing the day's entries (a sum whose
    # cost grew with every transfer of the day, inside the lock).
    sent_on = models.DateField(null=True, blank=True, editable=False)
    sent_paise = models.BigIntegerField(default=0, db_default=0, editable=False)
    pending_from = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When the pending pair (a raise the customer asked for) becomes their own limits.",
    )

    class Meta:
        verbose_name_plural = "transfer limits"
        constraints = [
            models.CheckConstraint(
                condition=Q(daily_paise__isnull=True) | Q(daily_paise__gte=0),
                name="transfer_limits_daily_positive",
            ),
            models.CheckConstraint(
                condition=Q(per_transfer_paise__isnull=True) | Q(per_transfer_paise__gte=0),
                name="transfer_limits_per_transfer_positive",
            ),
            models.CheckConstraint(
                condition=(Q(own_daily_paise__isnull=True) | Q(own_daily_paise__gt=0))
                & (Q(own_per_transfer_paise__isnull=True) | Q(own_per_transfer_paise__gt=0))
                & (Q(pending_daily_paise__isnull=True) | Q(pending_daily_paise__gt=0))
                & (Q(pending_per_transfer_paise__isnull=True) | Q(pending_per_transfer_paise__gt=0)),
                name="transfer_limits_own_positive",
            ),
            # Pending values mean nothing without the time they apply from.
            models.CheckConstraint(
                condition=Q(pending_from__isnull=False)
                | Q(pending_daily_paise__isnull=True, pending_per_transfer_paise__isnull=True),
                name="transfer_limits_pending_has_time",
            ),
        ]

    def __str__(self) -> str:
        return f"Transfer limits of {self.user}"


class OutwardPayment(models.Model):
    """A payment to another bank: the ledger moved the money to the settlement side; this row follows it
    out of the bank (sent, then settled or returned by the clearing system)."""

    class Status(models.TextChoices):
        SENT = "sent", "Sent"
        SETTLED = "settled", "Settled"
        RETURNED = "returned", "Returned"

    transaction = models.OneToOneField(
        Transaction, primary_key=True, on_delete=models.PROTECT, related_name="outward_payment"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.SENT)
    updated_at = models.DateTimeField(default=timezone.now)

    def __str__(self) -> str:
        return f"{self.transaction.reference} {self.get_status_display()}"


class Entry(models.Model):
    """One leg of a transaction on one account: a signed amount and the account's balance after it."""

    # Both foreign keys are served by composite indexes below (entry_one_leg_per_account leads with
    # transaction, entry_account_history with account): no single-column index to write on every posting.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="entries", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="entries", db_index=False)
    amount = models.BigIntegerField(help_text="Paise; positive credits the account, negative debits it.")
    balance_after = models.BigIntegerField(help_text="Paise.")
    created = models.DateTimeField(help_text="The transaction's time, copied for the history index.")
    # Who this leg's account holder dealt with, when it is not the transaction's counterparty: the credit of
    # a transfer to a SecureBank payee names the payer, never the payer's own name for the payee. Empty:
    # the transaction's. A database default, so that loaders that leave it out (COPY) still insert.
    counterparty = models.CharField(max_length=140, blank=True, default="", db_default="")

    class Meta:
        verbose_name_plural = "entries"
        indexes = [
            models.Index(fields=["account", "-created", "-id"], name="entry_account_history"),
            # An account's newest entry by id, whose balance_after the balance must equal (migration 0005).
            models.Index(fields=["account", "-id"], name="entry_account_latest"),
        ]
        constraints = [
            models.CheckConstraint(condition=~Q(amount=0), name="entry_amount_not_zero"),
            models.UniqueConstraint(fields=["transaction", "account"], name="entry_one_leg_per_account"),
        ]

    def __str__(self) -> str:
        return f"{self.account.name} {self.account.masked_number} {format_paise(self.amount)}"


class ScheduledTransfer(models.Model):
    """A transfer the customer set up to run later without them: once on a date, or weekly or monthly
    until an end date or a number of times (transactions/scheduled/). Money moves only when an occurrence
    runs (`scheduled_transfers_run_task`), through the same ledger services as a transfer made by hand.

    The occurrences are numbered from 0: occurrence n's planned date is n weeks or n months after the
    first date (a monthly one on the 31st falls on a shorter month's last day), and it runs on the first
    working day on or after that date (transactions/scheduled/dates.py). `next_index` counts the
    occurrences handled so far; `next_occurrence` is the planned date of the next one and `next_run_date`
    the day it will run."""

    class Frequency(models.TextChoices):
        ONCE = "once", "Once"
        WEEKLY = "weekly", "Every week"
        MONTHLY = "monthly", "Every month"

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        PAUSED = "paused", "Paused"
        CANCELLED = "cancelled", "Cancelled"
        FINISHED = "finished", "Finished"

    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="scheduled_transfers", db_index=False
    )
    source = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    # Exactly one of the two (scheduledtransfer_one_destination).
    destination = models.ForeignKey(
        Account, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payee = models.ForeignKey(
        "accounts.Payee", null=True, blank=True, on_delete=models.PROTECT, related_name="scheduled_transfers"
    )
    amount = models.BigIntegerField(help_text="Paise.")
    description = models.CharField(max_length=140, blank=True)
    frequency = models.CharField(max_length=10, choices=Frequency.choices)
    first_date = models.DateField()
    end_date = models.DateField(null=True, blank=True, help_text="No occurrence is planned after it.")
    count = models.PositiveIntegerField(null=True, blank=True, help_text="How many times, at most.")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    status_reason = models.CharField(max_length=200, blank=True, help_text="Why the bank stopped it.")
    next_index = models.PositiveIntegerField(default=0, help_text="Occurrences handled so far.")
    next_occurrence = models.DateField(null=True, blank=True, help_text="Planned date of the next one.")
    next_run_date = models.DateField(null=True, blank=True, help_text="The working day it runs on.")
    # The key of the form that created it: a double submit makes one schedule.
    create_key = models.CharField(max_length=100)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(destination__isnull=False, payee__isnull=True)
                | Q(destination__isnull=True, payee__isnull=False),
                name="scheduledtransfer_one_destination",
            ),
            models.CheckConstraint(condition=Q(amount__gt=0), name="scheduledtransfer_amount_positive"),
            models.CheckConstraint(
                condition=Q(count__isnull=True) | Q(count__gte=1), name="scheduledtransfer_count_positive"
            ),
            models.CheckConstraint(
                condition=~Q(status="active") | Q(next_run_date__isnull=False),
                name="scheduledtransfer_active_has_next",
            ),
            models.UniqueConstraint(
                fields=["owner", "create_key"], name="scheduledtransfer_owner_key_unique"
            ),
        ]
        indexes = [
            # What the beat job reads every few minutes: the active schedules that are due.
            models.Index(
                fields=["next_run_date"], condition=Q(status="active"), name="scheduledtransfer_due"
            ),
        ]

    def __str__(self) -> str:
        return f"Scheduled transfer #{self.pk} ({self.get_frequency_display()})"

    @property
    def to_name(self) -> str:
        """Whom it pays: the payee's name or the own account's (select_related them for a list)."""
        return self.payee.name if self.payee_id else self.destination.name

    @property
    def to_masked_number(self) -> str:
        return self.payee.masked_account_number if self.payee_id else self.destination.masked_number

    @property
    def is_running(self) -> bool:
        """Active or paused: it may still pay."""
        return self.status in (self.Status.ACTIVE, self.Status.PAUSED)


class ScheduledRun(models.Model):
    """One occurrence of a scheduled transfer that ran: posted, or failed with the ledger's reason. Unique
    per (schedule, planned date): an occurrence is run once, whatever runs the job twice."""

    class Status(models.TextChoices):
        POSTED = "posted", "Paid"
        FAILED = "failed", "Failed"

    schedule = models.ForeignKey(
        ScheduledTransfer, on_delete=models.PROTECT, related_name="runs", db_index=False
    )
    occurrence = models.DateField(help_text="The planned date (before rolling to a working day).")
    run_date = models.DateField(help_text="The working day it ran for.")
    status = models.CharField(max_length=10, choices=Status.choices)
    reason_code = models.CharField(max_length=40, blank=True)
    reason = models.CharField(max_length=300, blank=True)
    transaction = models.OneToOneField(
        Transaction, null=True, blank=True, on_delete=models.PROTECT, related_name="scheduled_run"
    )
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["-occurrence", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["schedule", "occurrence"], name="scheduledrun_one_per_occurrence"
            ),
            models.CheckConstraint(
                condition=Q(status="posted", transaction__isnull=False)
                | Q(status="failed", transaction__isnull=True),
                name="scheduledrun_posted_has_transaction",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.schedule_id} on {self.occurrence}: {self.status}"


class PostingAlert(models.Model):
    """The customer's alert of one posting on one of their accounts (RBI: an alert for every debit and
    credit): an outbox row, written by the posting in its own database transaction (services.py `_write`),
    so an alert is never lost to a crash after the commit, and sent at most once from here
    (transactions/alerts.py, which also says what each status means)."""

    class Kind(models.TextChoices):
        DEBIT = "debit", "Debit"
        CREDIT = "credit", "Credit"

    class Status(models.TextChoices):
        PENDING = "pending", "Pending"
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed"
        SKIPPED = "skipped", "Skipped (no one to email)"

    # The unique key below leads with the transaction (a posting's alerts are read by it); no index on the
    # account: accounts are never deleted, and nothing lists alerts by account.
    transaction = models.ForeignKey(
        Transaction, on_delete=models.PROTECT, related_name="alerts", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+", db_index=False)
    kind = models.CharField(max_length=6, choices=Kind.choices)
    # Defaults in the database: the posting's raw INSERT names only the columns above and the two times.
    status = models.CharField(
        max_length=8, choices=Status.choices, default=Status.PENDING, db_default=Status.PENDING
    )
    attempts = models.PositiveSmallIntegerField(default=0, db_default=0)
    created = models.DateTimeField(default=timezone.now)
    next_attempt_at = models.DateTimeField(
        help_text="When a pending alert is due: at once, after a retry's backoff, after a hand-out's lease."
    )
    claimed_at = models.DateTimeField(null=True, blank=True, help_text="When the last attempt began.")
    sent_at = models.DateTimeField(null=True, blank=True)
    last_error = models.CharField(max_length=300, blank=True, default="", db_default="")

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["transaction", "account", "kind"], name="postingalert_one_per_leg"
            ),
        ]
        indexes = [
            # The dispatcher's work: pending alerts by due time (a small index: sent rows leave it).
            models.Index(fields=["next_attempt_at"], name="postingalert_due", condition=Q(status="pending")),
            # What staff must look at (failed, or stuck while sending), newest first.
            models.Index(
                fields=["-id"], name="postingalert_attention", condition=Q(status__in=["failed", "sending"])
            ),
        ]

    def __str__(self) -> str:
        return (
            f"{self.get_kind_display()} alert of SB{self.transaction_id:010d} on account #{self.account_id}"
        )
