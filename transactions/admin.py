import re

from django.contrib import admin, messages
from django.db.models import Prefetch, QuerySet
from django.http import HttpRequest
from django.utils.html import format_html

from portal.admin import AuditedAdminMixin
from portal.money import format_paise
from transactions import alerts
from transactions.models import Category, Entry, PostingAlert, Transaction

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


class EntryInline(admin.TabularInline):
    model = Entry
    fields = ["account", "amount_display", "balance_after_display", "created"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description="Amount")
    def amount_display(self, obj: Entry) -> str:
        return format_paise(obj.amount)

    @admin.display(description="Balance after")
    def balance_after_display(self, obj: Entry) -> str:
        return format_paise(obj.balance_after)

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
    date_hierarchy = "created"
    list_select_related = ["category", "initiator"]
    inlines = [EntryInline]
    show_full_result_count = False

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
class EntryAdmin(admin.ModelAdmin):
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

    @admin.display(description="Amount", ordering="amount")
    def amount_display(self, obj: Entry) -> str:
        return format_paise(obj.amount)

    @admin.display(description="Balance after")
    def balance_after_display(self, obj: Entry) -> str:
        return format_paise(obj.balance_after)

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
