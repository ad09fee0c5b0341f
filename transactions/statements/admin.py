"""Statements in the back office, read-only: what was made for whom, its state and checksums. Staff with the
permission `statements.download_statement` (a customer asked the branch for a copy; an investigation) can
download a ready statement's files from its page; each download is audited with the staff member as actor,
as a customer's is. Nobody edits or deletes a statement here."""

from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponse
from django.urls import path, reverse
from django.utils.html import format_html

from transactions.statements import downloads
from transactions.statements.models import Statement


@admin.register(Statement)
class StatementAdmin(admin.ModelAdmin):
    list_display = ["pk", "account_display", "first_day", "last_day", "origin", "status", "finished_at"]
    list_filter = ["status", "origin"]
    search_fields = ["=account__number"]
    search_help_text = "A full account number."
    list_select_related = ["account"]
    show_full_result_count = False
    date_hierarchy = "first_day"
    readonly_fields = ["downloads"]

    @admin.display(description="Account")
    def account_display(self, obj: Statement) -> str:
        return f"{obj.account.name} ({obj.account.masked_number})"

    @admin.display(description="Files")
    def downloads(self, obj: Statement) -> str:
        if not obj.has_files:
            return "None kept"
        links = [
            format_html(
                '<a href="{}">Download {}</a>', reverse("admin:statement_file", args=[obj.pk, fmt]), fmt
            )
            for fmt in downloads.FORMATS
        ]
        return format_html(" · ".join(["{}"] * len(links)), *links)

    def get_readonly_fields(self, request: HttpRequest, obj: Statement | None = None) -> list[str]:
        return [f.name for f in Statement._meta.fields] + ["downloads"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: Statement | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: Statement | None = None) -> bool:
        return False

    def get_urls(self):
        own = [
            path(
                "<int:pk>/file/<str:fmt>/",
                self.admin_site.admin_view(self.file_view),
                name="statement_file",
            )
        ]
        return own + super().get_urls()

    def file_view(self, request: HttpRequest, pk: int, fmt: str) -> HttpResponse:
        """A ready statement's file for staff who may download statements (audited: `statement.download`
        with the staff member as actor)."""
        if not request.user.has_perm("statements.download_statement"):
            raise PermissionDenied
        statement = Statement.objects.select_related("account").filter(pk=pk).first()
        if statement is None or fmt not in downloads.FORMATS:
            raise Http404("No such statement file.")
        try:
            return downloads.file_response(request, statement, fmt)
        except downloads.NoFiles:
            raise Http404("This statement's files are no longer kept.") from None
