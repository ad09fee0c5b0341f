"""Admin for the rate sheet (portal/public/models.py `InterestRate`).

History is kept, never rewritten: a published line whose day has come (effective before today, IST) is
read-only and cannot be deleted; a change of rate is a new line with a later effective date. Drafts
(unpublished) and lines scheduled for today or later can be edited and deleted. Every add, change and delete
is an audit event (AuditedAdminMixin), and saving moves the rate pages' version (portal/public/signals.py),
so the next visitor sees the change.

The database refuses a bad line (CHECK constraints, one line per bucket and day); the form says why first.
"""

import datetime
from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db import models
from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.http import urlencode

from portal.admin import AuditedAdminMixin
from portal.local_time import day as day_words
from portal.money import AmountError, format_paise, paise_to_grouped_input, parse_rupees
from portal.public.models import InterestRate, RateProduct

HISTORY_MESSAGE = (
    "This line is in effect since {day} and is part of the rate history: it cannot be changed or deleted. "
    "To change the rate, add a new line with a later effective date."
)


def is_history(rate: InterestRate, today: datetime.date | None = None) -> bool:
    """A published line whose first day is before today (IST): visitors may have seen it, and the sheet as
    of a past day must keep showing it."""
    return rate.published and rate.effective_from < (today or timezone.localdate())


class SlabStartField(forms.CharField):
    """A savings slab's start typed in rupees ("10,00,000"), kept in paise; 0 or empty is the first slab."""

    def prepare_value(self, value: Any) -> Any:
        return paise_to_grouped_input(value) if isinstance(value, int) else value

    def to_python(self, value: Any) -> int:
        text = (super().to_python(value) or "").strip().removeprefix("₹").strip()
        if text.replace(",", "").replace(".", "").strip("0") == "":
            return 0
        try:
            return parse_rupees(text)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from error


class InterestRateForm(forms.ModelForm):
    balance_min_paise = SlabStartField(
        label="Savings: balances from (₹)",
        required=False,
        help_text="Savings only: where this balance slab starts, e.g. 10,00,000 for ₹10 lakh (0 for the "
        "first slab). The next slab's start ends it. Leave 0 for deposits.",
    )

    class Meta:
        model = InterestRate
        fields = [
            "product",
            "tenor_min_days",
            "tenor_max_days",
            "balance_min_paise",
            "general_rate",
            "senior_rate",
            "effective_from",
            "offered",
            "published",
            "note",
        ]
        labels = {
            "tenor_min_days": "Deposits: term from (days)",
            "tenor_max_days": "Deposits: term to (days, included)",
            "general_rate": "General rate (% a year)",
            "senior_rate": "Senior citizens' rate (% a year)",
            "effective_from": "Effective from (IST)",
            "offered": "Offered",
            "published": "Published",
        }
        help_texts = {
            "tenor_min_days": "Fixed and recurring deposits only, e.g. 365 for 1 year. Empty for savings.",
            "tenor_max_days": "Included: 729 makes the bucket “1 year to less than 2 years”.",
            "offered": "Untick to withdraw this bucket from the sheet from the effective date on.",
            "published": "Only published lines are shown to visitors. A published line cannot be dated "
            "before today, and once its day has passed it is history and cannot be changed.",
        }

    def clean(self) -> dict:
        data = super().clean()
        product = data.get("product")
        low, high = data.get("tenor_min_days"), data.get("tenor_max_days")
        if product == RateProduct.SAVINGS:
            for name in ("tenor_min_days", "tenor_max_days"):
                if data.get(name) is not None:
                    self.add_error(name, "A savings rate has no term: leave this empty.")
        elif product:
            if low is None:
                self.add_error("tenor_min_days", "A deposit needs the first day of its term, e.g. 7.")
            elif low < 1:
                self.add_error("tenor_min_days", "A term starts at 1 day or more.")
            if high is None:
                self.add_error("tenor_max_days", "A deposit needs the last day of its term, e.g. 45.")
            if low is not None and high is not None and low > high:
                self.add_error("tenor_max_days", f"The term must end on or after its first day ({low}).")
            if data.get("balance_min_paise"):
                self.add_error("balance_min_paise", "Deposits have no balance slab: leave this at 0.")
        if data.get("balance_min_paise") is None and "balance_min_paise" not in self.errors:
            data["balance_min_paise"] = 0
        effective = data.get("effective_from")
        today = timezone.localdate()
        if data.get("published") and effective is not None and effective < today:
            self.add_error(
                "effective_from",
                f"A published line cannot start before today ({day_words(today)}): that would rewrite "
                "the rate history. Choose today or a later day.",
            )
        if not self.errors and product:
            self._check_one_line_per_day(data)
        return data

    def _check_one_line_per_day(self, data: dict) -> None:
        same = InterestRate.objects.filter(
            product=data["product"],
            tenor_min_days=data.get("tenor_min_days"),
            tenor_max_days=data.get("tenor_max_days"),
            balance_min_paise=data.get("balance_min_paise") or 0,
            effective_from=data["effective_from"],
        )
        if self.instance.pk is not None:
            same = same.exclude(pk=self.instance.pk)
        if same.exists():
            self.add_error(
                "effective_from",
                "This bucket already has a line from that day. Edit that line (if its day has not come "
                "yet) or choose another day.",
            )


@admin.register(InterestRate)
class InterestRateAdmin(AuditedAdminMixin, admin.ModelAdmin):
    form = InterestRateForm
    list_display = [
        "product",
        "bucket_display",
        "general_rate",
        "senior_rate",
        "effective_from",
        "offered",
        "published",
        "state_display",
    ]
    list_display_links = ["product", "bucket_display"]
    list_filter = ["product", "published", "offered", ("effective_from", admin.DateFieldListFilter)]
    ordering = ["product", "tenor_min_days", "tenor_max_days", "balance_min_paise", "-effective_from"]
    search_fields = ["note"]
    search_help_text = "Words in the note."
    fieldsets = [
        (
            "Product and bucket",
            {"fields": ["product", "tenor_min_days", "tenor_max_days", "balance_min_paise"]},
        ),
        ("Rates", {"fields": ["general_rate", "senior_rate"]}),
        ("When and whether it shows", {"fields": ["effective_from", "offered", "published", "note"]}),
    ]

    def save_model(
        self, request: HttpRequest, obj: models.Model, form: forms.ModelForm, change: bool
    ) -> None:
        super().save_model(request, obj, form, change)
        if not change:
            # A new line's audit event holds the whole line, not only what differs from a prefilled form
            # ("Add a new line for this bucket").
            obj._audit_changes = {name: (None, form.cleaned_data.get(name)) for name in form.fields}  # type: ignore[attr-defined]

    @admin.display(description="Bucket")
    def bucket_display(self, obj: InterestRate) -> str:
        return obj.bucket_label()

    @admin.display(description="State")
    def state_display(self, obj: InterestRate) -> str:
        if not obj.published:
            return "Draft"
        if is_history(obj):
            return "History (read-only)"
        return "Scheduled" if obj.effective_from > timezone.localdate() else "From today"

    def has_change_permission(self, request: HttpRequest, obj: InterestRate | None = None) -> bool:
        if obj is not None and is_history(obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request: HttpRequest, obj: InterestRate | None = None) -> bool:
        if obj is not None and is_history(obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_deleted_objects(self, objs: Any, request: HttpRequest) -> tuple:
        """The bulk delete (an action over the list) asks no per-object permission: name the lines in
        effect as ones that cannot go, and Django refuses the whole deletion."""
        deletable, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        today = timezone.localdate()
        history = [str(rate) for rate in objs if isinstance(rate, InterestRate) and is_history(rate, today)]
        if history:
            perms_needed = {*perms_needed, "interest rate lines already in effect (rate history)"}
        return deletable, counts, perms_needed, protected

    def change_view(
        self, request: HttpRequest, object_id: str, form_url: str = "", extra_context: dict | None = None
    ) -> HttpResponse:
        rate = self.get_object(request, object_id) if request.method == "GET" else None
        if rate is not None and is_history(rate):
            add = reverse("admin:public_interestrate_add")
            initial = {
                "product": rate.product,
                "tenor_min_days": rate.tenor_min_days or "",
                "tenor_max_days": rate.tenor_max_days or "",
                "balance_min_paise": paise_to_grouped_input(rate.balance_min_paise)
                if rate.balance_min_paise
                else "",
                "general_rate": rate.general_rate,
                "senior_rate": rate.senior_rate,
            }
            self.message_user(
                request,
                format_html(
                    '{} <a href="{}?{}">Add a new line for this bucket</a>.',
                    HISTORY_MESSAGE.format(day=day_words(rate.effective_from)),
                    add,
                    urlencode({k: v for k, v in initial.items() if v != ""}),
                ),
                messages.INFO,
            )
        return super().change_view(request, object_id, form_url, extra_context)

    def audit_deleted(self, obj: models.Model) -> dict:
        assert isinstance(obj, InterestRate)  # noqa: S101 - this admin's model
        return {
            "repr": str(obj),
            "general_rate": str(obj.general_rate),
            "senior_rate": str(obj.senior_rate),
            "published": obj.published,
            "offered": obj.offered,
            "balance_min": format_paise(obj.balance_min_paise),
        }
