from django.contrib import admin
from django.http import HttpRequest

from portal.admin import AuditedAdminMixin
from portal.money import format_paise
from transactions.models import Category, Entry, Transaction


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

    list_display = ["id", "created", "kind", "description", "counterparty", "category", "initiator"]
    list_filter = ["kind", "category"]
    search_fields = ["id", "description", "counterparty", "idempotency_key"]
    date_hierarchy = "created"
    list_select_related = ["category", "initiator"]
    inlines = [EntryInline]
    show_full_result_count = False

    def get_readonly_fields(self, request: HttpRequest, obj: Transaction | None = None) -> list[str]:
        return [f.name for f in Transaction._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Transaction | None = None) -> bool:
        return False


@admin.register(Category)
class CategoryAdmin(AuditedAdminMixin, admin.ModelAdmin):
    list_display = ["slug", "name"]
    readonly_fields = ["slug"]

    def has_delete_permission(self, request: HttpRequest, obj: Category | None = None) -> bool:
        return False
