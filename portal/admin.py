"""Admin for the audit trail (read-only, streaming CSV export) and the mixin that audits staff changes."""

import datetime
import json
from typing import Any

from django import forms
from django.contrib import admin
from django.core.exceptions import PermissionDenied
from django.db import models, router, transaction
from django.http import HttpRequest, HttpResponse, HttpResponseBadRequest, StreamingHttpResponse
from django.urls import URLPattern, path
from django.utils import timezone
from django.utils.html import format_html

from portal.admin_paging import EstimatedCountPaginator
from portal.audit import AUDIT_ACTIONS, audit_csv, audit_record
from portal.models import AuditEvent


class AuditedAdminMixin:
    """Every add, change and delete that staff make through this ModelAdmin is also an audit event
    ("admin.add", "admin.change", "admin.delete") with the changed fields before and after, written in the
    same database transaction as the change: Django's add, change and delete views are atomic, and the
    actions (bulk delete) are made atomic here. Django's own LogEntry is still written beside it.

    A change writes only the columns its form changed, to a row locked when the POST read it: a posting
    (an account's balance and ledger version) or a sign-out everywhere (a user's session generation) that
    commits meanwhile is waited for, never written over by a value read before it (`Model.save()` would
    write every column)."""

    def get_object(
        self, request: HttpRequest, object_id: str, from_field: str | None = None
    ) -> models.Model | None:
        obj = super().get_object(request, object_id, from_field)  # type: ignore[misc]
        using = router.db_for_write(self.model)  # type: ignore[attr-defined]
        if obj is None or request.method != "POST" or not transaction.get_connection(using).in_atomic_block:
            return obj
        # Read it again under a row lock, held until the view's transaction ends (Django's add, change and
        # delete views are atomic; so is UserAdmin's password change).
        locked = type(obj)._default_manager.using(using).select_for_update(of=("self",))
        return locked.filter(pk=obj.pk).first()

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        # Keep what the form changed, before and after, for log_addition/log_change (called after saving).
        obj._audit_changes = {  # type: ignore[attr-defined]
            name: (form.initial.get(name), form.cleaned_data.get(name)) for name in form.changed_data
        }
        if not change:
            super().save_model(request, obj, form, change)  # type: ignore[misc]
            return
        columns = {f.name for f in obj._meta.concrete_fields if not f.primary_key}
        changed = [name for name in form.changed_data if name in columns]
        if changed:
            # A column that keeps the time of the last change (auto_now) changes with any change: it is not a
            # form field, so it is named here or it would keep the time of the first save.
            changed += [f.name for f in obj._meta.concrete_fields if getattr(f, "auto_now", False)]
        obj.save(update_fields=sorted(set(changed)))

    def _audit(self, request: HttpRequest, action: str, obj: models.Model, message: Any) -> None:
        changes = getattr(obj, "_audit_changes", None) or {}
        before = {name: old for name, (old, _new) in changes.items()} if action == "admin.change" else None
        after = {name: new for name, (_old, new) in changes.items()} or {"message": message}
        audit_record(action=action, actor=request.user, obj=obj, before=before, after=after, request=request)

    def log_addition(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, "admin.add", obj, message)
        return super().log_addition(request, obj, message)  # type: ignore[misc]

    def log_change(self, request: HttpRequest, obj: models.Model, message: Any) -> Any:
        self._audit(request, "admin.change", obj, message)
        return super().log_change(request, obj, message)  # type: ignore[misc]

    def audit_deleted(self, obj: models.Model) -> dict:
        """What the audit event of a deletion keeps of the deleted object; a ModelAdmin may say more."""
        return {"repr": str(obj)}

    def log_deletions(self, request: HttpRequest, queryset: Any) -> Any:
        for obj in queryset:
            audit_record(
                action="admin.delete",
                actor=request.user,
                obj=obj,
                before=self.audit_deleted(obj),
                request=request,
            )
        return super().log_deletions(request, queryset)  # type: ignore[misc]

    def response_action(self, request: HttpRequest, queryset: models.QuerySet) -> Any:
        # Django logs a bulk delete, then deletes, outside any transaction: make the pair one.
        with transaction.atomic(using=router.db_for_write(queryset.model)):
            return super().response_action(request, queryset)  # type: ignore[misc]


class ExportRangeForm(forms.Form):
    """The days to export, both included, in the portal's time zone; either end may be left open."""

    since = forms.DateField(required=False)
    until = forms.DateField(required=False)

    def clean(self) -> dict:
        data = super().clean()
        if data.get("since") and data.get("until") and data["since"] > data["until"]:
            raise forms.ValidationError("The first day must not be after the last day.")
        return data


def _start_of(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))


def _csv_response(queryset: models.QuerySet, filename: str) -> StreamingHttpResponse:
    response = StreamingHttpResponse(audit_csv(queryset), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


class ActionFilter(admin.SimpleListFilter):
    """The actions the portal records, listed from code: Django's default filter would run a DISTINCT over
    the whole trail on every page. A family ("money") matches each of its actions ("money.transfer")."""

    title = "action"
    parameter_name = "action"
    families = ("login", "money", "admin", "2fa", "stepup", "staff")

    def lookups(self, request: HttpRequest, model_admin: admin.ModelAdmin) -> list[tuple[str, str]]:
        from transactions.models import Transaction

        actions = [*AUDIT_ACTIONS, *(f"money.{kind}" for kind in Transaction.Kind.values)]
        return [(family, f"{family}.*") for family in self.families] + [(a, a) for a in sorted(actions)]

    def queryset(self, request: HttpRequest, queryset: models.QuerySet) -> models.QuerySet:
        value = self.value()
        if not value:
            return queryset
        if value in self.families:
            return queryset.filter(action__startswith=f"{value}.")
        return queryset.filter(action=value)


CHANGES_SHOWN = 60  # characters of an event's change in the list


def changes_summary(before: Any, after: Any) -> str:
    """An event's before and after in one line: "status: active → frozen; name: Savings" (a value that was
    not a field-by-field dict is shown as it is)."""
    if not isinstance(after, dict) or not isinstance(before, dict | None):
        return " → ".join(json.dumps(v, ensure_ascii=False, default=str) for v in (before, after) if v)
    before = before or {}
    parts = []
    for name, new in after.items():
        shown = json.dumps(new, ensure_ascii=False, default=str).strip('"')
        if name in before:
            old = json.dumps(before[name], ensure_ascii=False, default=str).strip('"')
            shown = f"{old} → {shown}"
        parts.append(f"{name}: {shown}")
    return "; ".join(parts)


@admin.register(AuditEvent)
class AuditEventAdmin(admin.ModelAdmin):
    """Read-only: nobody adds, edits or deletes an audit event, not even a superuser."""

    # Fits 1280 px: the object in one column, the change summarised and cut (the whole of it, and the seal,
    # are on the event's own page).
    list_display = ["seq", "created", "action", "actor_email", "object_display", "changes_display", "ip"]
    list_filter = [ActionFilter, ("created", admin.DateFieldListFilter)]
    search_fields = ["^actor_email", "=object_id"]
    search_help_text = "An actor's email (starts with) or an object id (exact)."
    list_select_related = False
    show_full_result_count = False
    paginator = EstimatedCountPaginator  # no COUNT(*) over the whole trail for an unfiltered page
    actions = ["export_csv"]

    def get_readonly_fields(self, request: HttpRequest, obj: AuditEvent | None = None) -> list[str]:
        return [f.name for f in AuditEvent._meta.fields]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    def has_delete_permission(self, request: HttpRequest, obj: AuditEvent | None = None) -> bool:
        return False

    @admin.display(description="Object")
    def object_display(self, obj: AuditEvent) -> str:
        return f"{obj.object_type} #{obj.object_id}" if obj.object_type else obj.object_id

    @admin.display(description="Change")
    def changes_display(self, obj: AuditEvent) -> str:
        text = changes_summary(obj.before, obj.after)
        if len(text) <= CHANGES_SHOWN:
            return text
        return format_html('<span title="{}">{}…</span>', text, text[: CHANGES_SHOWN - 1].rstrip())

    @admin.display(boolean=True, description="Sealed")
    def sealed(self, obj: AuditEvent) -> bool:
        return obj.sealed

    def get_urls(self) -> list[URLPattern]:
        export = path(
            "export/", self.admin_site.admin_view(self.export_view), name="portal_auditevent_export"
        )
        return [export, *super().get_urls()]

    def export_view(self, request: HttpRequest) -> HttpResponse:
        """GET ?since=YYYY-MM-DD&until=YYYY-MM-DD: every event of those days as CSV, streamed in seq order."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        form = ExportRangeForm(request.GET)
        if not form.is_valid():
            return HttpResponseBadRequest(form.errors.as_text(), content_type="text/plain")
        since, until = form.cleaned_data["since"], form.cleaned_data["until"]
        queryset = AuditEvent.objects.all()
        if since:
            queryset = queryset.filter(created__gte=_start_of(since))
        if until:
            queryset = queryset.filter(created__lt=_start_of(until + datetime.timedelta(days=1)))
        audit_record(
            action="audit.export",
            after={"since": since, "until": until},
            request=request,
        )
        return _csv_response(queryset, f"audit-{since or 'start'}-{until or 'now'}.csv")

    @admin.action(description="Export the selected events as CSV", permissions=["view"])
    def export_csv(self, request: HttpRequest, queryset: models.QuerySet) -> StreamingHttpResponse:
        selection = {"filters": request.GET.dict(), "select_across": request.POST.get("select_across") == "1"}
        audit_record(action="audit.export", after=selection, request=request)
        return _csv_response(queryset, "audit-selected.csv")
