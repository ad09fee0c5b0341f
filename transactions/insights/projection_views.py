"""The savings projection page (/insights/projection/): a monthly deposit (and, if they like, a starting
balance) in, the balance after 6, 12 and 24 months out, with the formula and its numbers.

A plain GET form: the figures are in the address, so a projection is a link, and it works without
JavaScript. With HTMX the results are asked for as the customer types (300 ms after the last key) and only
the `projection-results` partial comes back, with the status line above it (out of band), which screen
readers announce; focus stays in the field being typed in. The form lives here: it is this page's alone.
"""

import re

from django import forms
from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from portal.money import AmountError, format_paise, parse_rupees
from transactions.insights.periods import today
from transactions.insights.projection import (
    DEPOSIT_MAX_PAISE,
    START_MAX_PAISE,
    projection,
    savings_balance,
)

_PAGE = "transactions/insights/projection.html"
_ZERO = re.compile(r"^\s*₹?\s*0+(?:\.0{1,2})?\s*$")


class ProjectionForm(forms.Form):
    deposit = forms.CharField(
        label=gettext_lazy("Monthly deposit (₹)"),
        max_length=24,
        error_messages={"required": gettext_lazy("Enter how much you would put in each month.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )
    start = forms.CharField(
        label=gettext_lazy("Starting balance (₹, optional)"),
        max_length=24,
        required=False,
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, balance: int, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["start"].help_text = _(
            "Leave it empty to start from your savings accounts' balance, %(balance)s."
        ) % {"balance": format_paise(balance)}

    def clean_deposit(self) -> int:
        try:
            paise = parse_rupees(self.cleaned_data["deposit"])
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from error
        if paise > DEPOSIT_MAX_PAISE:
            raise forms.ValidationError(
                _("Enter at most %(max)s a month.") % {"max": format_paise(DEPOSIT_MAX_PAISE)},
                code="too_large",
            )
        return paise

    def clean_start(self) -> int | None:
        text = self.cleaned_data["start"]
        if not text.strip():
            return None
        if _ZERO.match(text):
            return 0
        try:
            paise = parse_rupees(text)
        except AmountError as error:
            raise forms.ValidationError(str(error), code="amount") from error
        if paise > START_MAX_PAISE:
            raise forms.ValidationError(
                _("Enter at most %(max)s.") % {"max": format_paise(START_MAX_PAISE)}, code="too_large"
            )
        return paise


@login_required
@require_safe
def projection_page(request: HttpRequest) -> HttpResponse:
    """The form, and the projection once a deposit is asked for (`?deposit=`)."""
    balance = savings_balance(user=request.user)
    asked = "deposit" in request.GET
    form = ProjectionForm(request.GET if asked else None, balance=balance)
    result = None
    if asked and form.is_valid():
        start = form.cleaned_data["start"]
        result = projection(
            deposit_paise=form.cleaned_data["deposit"],
            start_paise=balance if start is None else start,
            start_is_balance=start is None,
            as_of=today(),
        )
    context = {"form": form, "projection": result, "asked": asked}
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, f"{_PAGE}#projection-swap" if fragment else _PAGE, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
