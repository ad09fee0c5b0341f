"""Account statements: one `Statement` row per (account, period), made by a customer's request or by the
monthly schedule, rendered by a Celery task into a PDF and a CSV kept in the `statements` storage.

A row is never duplicated: (account, first day, last day) is unique, so asking again for a period that is
queued, running or ready returns that row, and a failed one (or one whose files the retention job removed)
is queued again in place. The row keeps what the files say (opening and closing balances, sums, entry
count) and the SHA-256 of each file, so that a file can be verified after its bytes are gone."""

from django.conf import settings
from django.core.files.storage import Storage, storages
from django.db import models
from django.db.models import Q

from accounts.models import Account


class _StatementsStorage(Storage):
    """The `statements` storage of settings.STORAGES, looked up at each use rather than when the model class
    is made (a FileField calls its storage callable then: before the tests' settings, or a deploy's
    override, are in place)."""

    def __getattribute__(self, name: str):
        if name.startswith("__"):
            return object.__getattribute__(self, name)
        return getattr(storages["statements"], name)


def statements_storage() -> _StatementsStorage:
    return _StatementsStorage()


class Statement(models.Model):
    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RUNNING = "running", "Being prepared"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    class Origin(models.TextChoices):
        REQUESTED = "requested", "Requested"
        MONTHLY = "monthly", "Monthly"

    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="statements")
    first_day = models.DateField(help_text="The period's first day (India), inclusive.")
    last_day = models.DateField(help_text="The period's last day (India), inclusive.")
    origin = models.CharField(max_length=10, choices=Origin.choices, default=Origin.REQUESTED)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    progress = models.PositiveSmallIntegerField(default=0, help_text="Per cent of the entries written.")
    error = models.CharField(max_length=300, blank=True, default="")
    attempts = models.PositiveSmallIntegerField(default=0)
    attempts_before = models.PositiveSmallIntegerField(
        default=0,
        db_default=0,  # the monthly fan-out inserts rows in SQL (schedule.py)
        help_text="Attempts when it was last asked for (a retry by the customer): automatic retries count "
        "from here, so a customer's retry gets as many as the first request.",
    )
    # What the files say, written with them.
    entry_count = models.PositiveIntegerField(null=True, blank=True)
    opening_paise = models.BigIntegerField(null=True, blank=True)
    closing_paise = models.BigIntegerField(null=True, blank=True)
    credits_paise = models.BigIntegerField(null=True, blank=True)
    debits_paise = models.BigIntegerField(null=True, blank=True)
    pdf = models.FileField(storage=statements_storage, max_length=200, blank=True, default="")
    csv = models.FileField(storage=statements_storage, max_length=200, blank=True, default="")
    pdf_bytes = models.PositiveBigIntegerField(null=True, blank=True, help_text="The PDF's size.")
    csv_bytes = models.PositiveBigIntegerField(null=True, blank=True, help_text="The CSV's size.")
    issued_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When it was first made: the time printed in it, kept when it is made again (after its "
        "files were removed), so that the same ledger gives the same PDF and an earlier copy still verifies.",
    )
    pdf_sha256 = models.CharField(max_length=64, blank=True, default="")
    csv_sha256 = models.CharField(max_length=64, blank=True, default="")
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    heartbeat_at = models.DateTimeField(null=True, blank=True, help_text="Last sign of life of its task.")
    sent_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When its task was last handed to the broker; empty until then (the watchdog sends again a "
        "queued statement whose task never left, or left long ago).",
    )
    finished_at = models.DateTimeField(null=True, blank=True)
    files_removed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-first_day", "-id"]
        permissions = [("download_statement", "Can download a customer's statement files")]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "first_day", "last_day"], name="statement_one_per_period"
            ),
            models.CheckConstraint(
                condition=Q(first_day__lte=models.F("last_day")), name="statement_period_order"
            ),
            models.CheckConstraint(condition=Q(progress__lte=100), name="statement_progress_percent"),
        ]
        indexes = [
            models.Index(fields=["pdf_sha256"], name="statement_pdf_sha256", condition=~Q(pdf_sha256="")),
            models.Index(fields=["csv_sha256"], name="statement_csv_sha256", condition=~Q(csv_sha256="")),
            models.Index(fields=["status", "heartbeat_at"], name="statement_status_heartbeat"),
            # The watchdog's look for queued statements whose task never left (services.py
            # `resend_unsent`), and the retention job's for files past their time (schedule.py).
            models.Index(
                fields=["sent_at", "id"], name="statement_queued_sent", condition=Q(status="queued")
            ),
            models.Index(
                fields=["finished_at", "id"],
                name="statement_files_kept",
                condition=Q(status="ready", files_removed_at__isnull=True),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account.masked_number} {self.first_day}–{self.last_day} ({self.status})"

    @property
    def is_done(self) -> bool:
        return self.status in (self.Status.READY, self.Status.FAILED)

    @property
    def retrying(self) -> bool:
        """Queued again by the bank itself after an interruption (its worker lost, the database or the storage
        away for a moment), with `error` saying so: the page shows "we will try again", not "try again"."""
        return self.status == self.Status.QUEUED and self.attempts > 0 and bool(self.error)

    @property
    def has_files(self) -> bool:
        return self.status == self.Status.READY and self.files_removed_at is None and bool(self.pdf)


class Receipt(models.Model):
    """A receipt PDF rendered for one side of a transaction: the customer's `account` (a transfer between
    two of a customer's accounts has a receipt for each). Kept so that a receipt can be verified: its
    checksum (the SHA-256 of its data, printed in it: transactions/statements/receipts.py) and the SHA-256
    of the file. The file itself is rendered again at each download (the same data gives the same bytes),
    so nothing else is stored."""

    transaction = models.ForeignKey(
        "transactions.Transaction", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    account = models.ForeignKey(Account, on_delete=models.PROTECT, related_name="+")
    data_sha256 = models.CharField(max_length=64)
    pdf_sha256 = models.CharField(max_length=64)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            # Leads with the transaction: also the index of "this transaction's receipts".
            models.UniqueConstraint(fields=["transaction", "account"], name="receipt_one_per_side"),
        ]
        indexes = [
            models.Index(fields=["data_sha256"], name="receipt_data_sha256"),
            models.Index(fields=["pdf_sha256"], name="receipt_pdf_sha256"),
        ]

    def __str__(self) -> str:
        return f"Receipt SB{self.transaction_id:010d} {self.account.masked_number}"
