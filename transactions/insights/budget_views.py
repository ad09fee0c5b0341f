"""The budgets page (/insights/budgets/): this month's budgets with their progress, and a form per budget to
change or remove it, and one to add a budget.

Without JavaScript every form posts and the answer is a 303 back to the page (Back and Reload never post
again), or the page again with the form's error. With HTMX the forms post the same way and the answer is
the page's `budgets-swap` partial (the list and forms, the status line out of band): no reload, and
portal.js moves focus to the errors or the heading of what was swapped. The forms live here, not in a
forms module of the insights app, because they are this page's alone.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_http_methods, require_POST

from portal.money import AmountError, format_paise_short, paise_to_grouped_input, parse_rupees
from transactions.categories import CATEGORIES
from transactions.insights.budgets import (
    BUDGET_MAX_PAISE,
    BudgetError,
    budget_progress,
    budget_remove,
    budget_set,
)
from transactions.insights.models import Budget
from transactions.insights.periods import month_start, today
from transactions.models import Category

_PAGE = "transactions/insights/budgets.html"
# Money in, not spending: no budget for them.
INCOME_CATEGORIES = ("salary", "interest")


def _see_other(url: str) -> HttpResponseRedirect:
    response = HttpResponseRedirect(url)
    response.status_code = 303
    return response


def parse_budget(text: str) -> int:
    """A monthly budget typed in rupees ('10,000', '₹ 1,00,000.50') as paise, or a ValidationError."""
    try:
        paise = parse_rupees(text)
    except AmountError as error:
        raise forms.ValidationError(str(error), code="amount") from error
    if paise > BUDGET_MAX_PAISE:
        raise forms.ValidationError(
            _("Enter a budget of at most %(max)s a month.") % {"max": format_paise_short(BUDGET_MAX_PAISE)},
            code="too_large",
        )
    return paise


class BudgetForm(forms.Form):
    """A category and its monthly budget in rupees (Indian grouping welcome): set or changed."""

    category = forms.ChoiceField(
        label=gettext_lazy("Category"),
        error_messages={
            "required": gettext_lazy("Choose a category."),
            "invalid_choice": gettext_lazy("Choose a category."),
        },
    )
    amount = forms.CharField(
        label=gettext_lazy("Monthly budget (₹)"),
        max_length=24,
        error_messages={"required": gettext_lazy("Enter an amount.")},
        widget=forms.TextInput(attrs={"inputmode": "decimal", "autocomplete": "off"}),
    )

    def __init__(self, *args, categories: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["category"].choices = [("", _("Choose a category")), *categories]

    def clean_amount(self) -> int:
        return parse_budget(self.cleaned_data["amount"])


def _categories() -> list[tuple[str, str]]:
    return list(Category.objects.exclude(slug__in=INCOME_CATEGORIES).values_list("slug", "name"))


def _change_form(categories: list, category: str, data: dict | None = None, amount: int = 0) -> BudgetForm:
    """A budget's own change form: its category hidden, its field ids its own (several on one page)."""
    names = dict(categories)
    form = BudgetForm(
        data,
        categories=categories,
        initial={"category": category, "amount": paise_to_grouped_input(amount) if amount else ""},
        auto_id=f"id_%s_{category if category in names else 'unknown'}",  # never posted text in an id
    )
    form.fields["category"].widget = forms.HiddenInput()
    name = names.get(category, "")
    form.fields["amount"].label = _("Monthly budget for %(category)s (₹)") % {"category": name}
    return form


def _context(request: HttpRequest, *, failed: BudgetForm | None = None, status: str = "") -> dict:
    """The page's figures, with the form that failed (if any) in its place: the add form, or a budget's."""
    categories = _categories()
    rows = budget_progress(user=request.user)
    posted = failed.data.get("category") if failed is not None else None
    changing = failed is not None and failed.data.get("form") == "change"
    items = [
        (
            row,
            failed
            if changing and posted == row.category
            else _change_form(categories, row.category, amount=row.budget),
        )
        for row in rows
    ]
    add_form = failed if failed is not None and not changing else BudgetForm(categories=categories)
    return {
        "items": items,
        "add_form": add_form,
        "month": month_start(today()),
        "status": status,
        "open_category": posted if changing else "",
    }


def _answer(request: HttpRequest, context: dict, status: int = 200) -> HttpResponse:
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, f"{_PAGE}#budgets-swap" if fragment else _PAGE, context, status=status)
    patch_vary_headers(response, ["HX-Request"])
    return response


def _done(request: HttpRequest, message: str) -> HttpResponse:
    if request.htmx:
        return _answer(request, _context(request, status=message))
    messages.success(request, message)
    return _see_other(reverse("insights_budgets"))


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def budgets_page(request: HttpRequest) -> HttpResponse:
    """GET: the month's budgets. POST (`form` = "add" or "change"): set a category's budget."""
    if request.method != "POST":
        return _answer(request, _context(request))
    categories = _categories()
    if request.POST.get("form") == "change":
        form = _change_form(categories, request.POST.get("category", ""), data=request.POST)
    else:
        form = BudgetForm(request.POST, categories=categories)
    if form.is_valid():
        category, amount = form.cleaned_data["category"], form.cleaned_data["amount"]
        try:
            budget_set(user=request.user, category=category, amount_paise=amount)
        except BudgetError as error:
            form.add_error("amount", error.message)
        else:
            name = dict(categories)[category]
            return _done(
                request,
                _("Your %(category)s budget is %(amount)s a month.")
                % {"category": name, "amount": format_paise_short(amount)},
            )
    return _answer(request, _context(request, failed=form))


@login_required
@require_POST
def budget_remove_view(request: HttpRequest) -> HttpResponse:
    """Remove the budget of the posted category: one the customer has not set (or another customer's) is a
    404, as for an id in a URL."""
    category = request.POST.get("category", "")
    name = CATEGORIES.get(category)  # not the posted text in a query: a NUL byte is a database error
    if name is None:
        raise Http404("No such budget.")
    try:
        budget_remove(user=request.user, category=category)
    except Budget.DoesNotExist:
        raise Http404("No such budget.") from None
    return _done(request, _("Your %(category)s budget is removed.") % {"category": name})
