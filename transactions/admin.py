import re
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils import timezone
from django.utils.html import format_html

from portal.admin import AuditedAdminMixin
from portal.admin_paging import EstimatedCountPaginator
from portal.local_time import date_and_time_from
from portal.money import AmountError, format_paise, paise_to_input, parse_rupees
from transactions import alerts, limits
from transactions.models import Category, Entry, PostingAlert, Transaction, TransferLimits

# The reference a customer reads on their receipt and quotes on the phone: "SB" and the transaction's id in
# ten digits (Transaction.reference). Staff may type it in any case, zeros or none.
REFERENCE = re.compile(r"\s*SB0*(\d{1,18})\s*", re.IGNORECASE)


def reference_pk(term: str) -> int | None:
    """The transaction id in a customer-facing reference ("SB0000001394" -> 1394), or None."""
    match = REFERENCE.fullmatch(term)
    return int(match.group(1)) if match else None


def _account(account: object) -> str:
    """An account as staff read it in a list: its name and masked number, never the full number."""
    return f"{account.name} {account.masked_number}"  # type: ignore[attr-defined]


class EntryAmounts:
    """An entry's amount and balance after, in rupees, for the entries list and a transaction's inline."""

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Entry) -> str:
        return format_paise(obj.amount)

    @admin.display(description="Balance after")
    def balance_after_display(self, obj: Entry) -> str:
        return format_paise(obj.balance_after)


class EntryInline(EntryAmounts, admin.TabularInline):
    model = Entry
    fields = ["account", "amount_display", "balance_after_display", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    def has_add_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: object = None) -> bool:
        return False


@admin.register(Transaction)
class TransactionAdmin(admin.ModelAdmin):
    """The ledger, read-only: history is corrected by a reversing transaction, never edited."""

    list_display = [
        "reference_display",
        "created",
        "kind",
        "amount_display",
        "from_display",
        "to_display",
        "note_display",
    ]
    list_filter = ["kind", "category"]
    search_fields = ["description", "counterparty", "idempotency_key"]
    search_help_text = "A reference (SB0000001394), or words of the note, the counterparty or the key."
    # No date_hierarchy: its year links are a DISTINCT over every transaction of the bank, on every page.
    inlines = [EntryInline]
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over the whole ledger for an unfiltered page

    def get_queryset(self, request: HttpRequest) -> QuerySet[Transaction]:
        # A page's entries and their accounts in two more queries, whatever the page's length.
        entries = Prefetch("entries", queryset=Entry.objects.select_related("account").order_by("amount"))
        return super().get_queryset(request).prefetch_related(entries)

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Transaction], search_term: str
    ) -> tuple[QuerySet[Transaction], bool]:
        pk = reference_pk(search_term)
        if pk is not None:  # the reference a customer quotes: that one transaction, by its primary key
            return queryset.filter(pk=pk), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Reference", ordering="id")
    def reference_display(self, obj: Transaction) -> str:
        return obj.reference

    @admin.display(description="Amount")
    def amount_display(self, obj: Transaction) -> str:
        return format_paise(sum(e.amount for e in obj.entries.all() if e.amount > 0))

    @admin.display(description="Note")
    def note_display(self, obj: Transaction) -> str:
        """The customer's note, and under it who was paid or paid in (a shop, an employer), if anyone."""
        if not obj.counterparty:
            return obj.description
        return format_html('{}<br><span class="quiet">{}</span>', obj.description, obj.counterparty)

    @admin.display(description="From")
    def from_display(self, obj: Transaction) -> str:
        return ", ".join(_account(e.account) for e in obj.entries.all() if e.amount < 0)

    @admin.display(description="To")
    def to_display(self, obj: Transaction) -> str:
        return ", ".join(_account(e.account) for e in obj.entries.all() if e.amount > 0)

    def get_readonly_fields(self, request: HttpRequest, obj: Transaction | None = None) -> list[str]:
        return [f.name for f in Transaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False


@admin.register(Entry)
class EntryAdmin(EntryAmounts, admin.ModelAdmin):
    """One leg on one account, read-only: what a customer's statement shows, for staff on the phone."""

    list_display = [
        "transaction_display",
        "created",
        "account_display",
        "amount_display",
        "balance_after_display",
    ]
    search_fields = ["=account__number"]
    search_help_text = "A full account number, or a reference (SB0000001394)."
    list_select_related = ["account", "transaction"]
    # No date_hierarchy: its year links are a DISTINCT over every entry of the bank, on every page.
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over the whole ledger for an unfiltered page

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[Entry], search_term: str
    ) -> tuple[QuerySet[Entry], bool]:
        pk = reference_pk(search_term)
        if pk is not None:
            return queryset.filter(transaction_id=pk), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Transaction", ordering="transaction_id")
    def transaction_display(self, obj: Entry) -> str:
        return f"{obj.transaction.reference} {obj.transaction.get_kind_display()}"

    @admin.display(description="Account")
    def account_display(self, obj: Entry) -> str:
        return _account(obj.account)

    def get_readonly_fields(self, request: HttpRequest, obj: Entry | None = None) -> list[str]:
        return [f.name for f in Entry._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Entry | None = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "name"]
    readonly_fields = ["slug"]

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return False


class RupeesField(forms.CharField):
    """An optional amount typed in rupees ("5,00,000" or "2500.50"), kept in paise; empty is None."""

    def prepare_value(self, value: Any) -> Any:
        return paise_to_input(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int | None:
        text = super().to_python(value)
        if not text:
            return None
        try:
            return parse_rupees(text)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from error


class TransferLimitsForm(forms.ModelForm):
    daily_paise = RupeesField(label="Bank's daily limit (₹)", required=False)
    per_transfer_paise = RupeesField(label="Bank's per-transfer limit (₹)", required=False)

    class Meta:
        model = TransferLimits
        fields = ["user", "daily_paise", "per_transfer_paise"]

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        defaults = {
            "daily_paise": ("a day", settings.DAILY_TRANSFER_LIMIT_PAISE),
            "per_transfer_paise": ("in one transfer", settings.PER_TRANSFER_LIMIT_PAISE),
        }
        for name, (when, paise) in defaults.items():
            self.fields[name].help_text = (
                f"What this customer may send to others {when}. Empty for the bank's default, "
                f"{format_paise(paise)}."
            )


def _own_words(own: limits.OwnLimits) -> str:
    daily = format_paise(own.daily_paise) if own.daily_paise is not None else "none"
    per_transfer = format_paise(own.per_transfer_paise) if own.per_transfer_paise is not None else "none"
    return f"{daily} a day, {per_transfer} a transfer"


@admin.register(TransferLimits)
class TransferLimitsAdmin(AuditedAdminMixin, admin.ModelAdmin):
    """A customer's limits on money sent to others: staff set the bank's daily and per-transfer limits for
    them (audited; saved with update_fields under the row lock that the customer's transfers take, so a
    transfer checks either the old limits or the new ones). The customer's own lower limits, and a raise of
    them still waiting, are shown, not edited: they are the customer's (/security/limits/)."""

    form = TransferLimitsForm
    list_display = ["user", "daily_display", "per_transfer_display", "own_display", "pending_display"]
    search_fields = ["user__email"]
    search_help_text = "A customer's email."
    list_select_related = ["user"]
    raw_id_fields = ["user"]
    show_full_result_count = False
    readonly_fields = ["own_display", "pending_display"]
    fields = ["user", "daily_paise", "per_transfer_paise", "own_display", "pending_display"]

    def get_readonly_fields(self, request: HttpRequest, obj: TransferLimits | None = None) -> list[str]:
        fields = list(super().get_readonly_fields(request, obj))
        return [*fields, "user"] if obj is not None else fields

    def has_delete_permission(self, request: HttpRequest, obj: TransferLimits | None = None) -> bool:
        return False  # the row is the lock of the customer's transfers, and protected by them

    @admin.display(description="Daily (bank)", ordering="daily_paise")
    def daily_display(self, obj: TransferLimits) -> str:
        shown = format_paise(limits.bank_daily_limit(obj))
        return shown if obj.daily_paise is not None else f"{shown} (default)"

    @admin.display(description="Per transfer (bank)", ordering="per_transfer_paise")
    def per_transfer_display(self, obj: TransferLimits) -> str:
        shown = format_paise(limits.bank_per_transfer_limit(obj))
        return shown if obj.per_transfer_paise is not None else f"{shown} (default)"

    @admin.display(description="Customer's own")
    def own_display(self, obj: TransferLimits) -> str:
        return _own_words(limits.own_limits(obj, timezone.now()))

    @admin.display(description="Customer's raise waiting")
    def pending_display(self, obj: TransferLimits) -> str:
        waiting = limits.pending_raise(obj, timezone.now())
        if waiting is None:
            return "none"
        return f"{_own_words(waiting[0])}, from {date_and_time_from(waiting[1])}"


@admin.register(PostingAlert)
class PostingAlertAdmin(admin.ModelAdmin):
    """The customers' posting alerts (transactions/alerts.py), read-only: what was sent, what is waiting for
    a retry and why, and what failed. "Retry now" gives a failed alert one more attempt (audited)."""

    list_display = [
        "reference_display",
        "created",
        "kind",
        "account_display",
        "status",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["status", "kind"]
    search_fields = ["=account__number"]
    search_help_text = "A reference (SB0000001394), or a full account number."
    list_select_related = ["account"]
    show_full_result_count = False
    actions = ["retry_now"]

    def get_search_results(
        self, request: HttpRequest, queryset: QuerySet[PostingAlert], search_term: str
    ) -> tuple[QuerySet[PostingAlert], bool]:
        pk = reference_pk(search_term)
        if pk is not None:
            return queryset.filter(transaction_id=pk), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="Reference", ordering="transaction_id")
    def reference_display(self, obj: PostingAlert) -> str:
        return f"SB{obj.transaction_id:010d}"

    @admin.display(description="Account")
    def account_display(self, obj: PostingAlert) -> str:
        return _account(obj.account)

    def get_readonly_fields(self, request: HttpRequest, obj: PostingAlert | None = None) -> list[str]:
        return [f.name for f in PostingAlert._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: PostingAlert | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: PostingAlert | None = None) -> bool:
        return False

    def has_retry_permission(self, request: HttpRequest) -> bool:
        """Staff who may change alerts (the form is read-only: this is the one change there is)."""
        return request.user.has_perm("transactions.change_postingalert")

    @admin.action(description="Retry now (failed alerts only)", permissions=["retry"])
    def retry_now(self, request: HttpRequest, queryset: QuerySet[PostingAlert]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        retried = alerts.alerts_retry(alert_ids=chosen, by=request.user, request=request)
        self.message_user(request, f"{retried} of {len(chosen)} alerts will be sent again within a minute.")
        if retried < len(chosen):
            self.message_user(
                request, "Only failed alerts are retried; the others were left alone.", messages.WARNING
            )
