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

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()}: {self.description}"

    @property
    def reference(self) -> str:
        """What a customer reads on the receipt and quotes to the bank: "SB" and the id in ten digits
        (staff search it in the admin: transactions/admin.py reads it back)."""
        return f"SB{self.pk:010d}"


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
