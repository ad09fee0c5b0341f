"""The insights page: where a customer's money went over a period, on one account or all of them.

One view answers the page and, for HTMX (the period or account form), its `insights-results` partial; both
vary on HX-Request. The figures come from the daily sums (selectors.py) and the charts from charts.py, both
cached under the accounts' ledger versions: a warm page is the accounts, their sums' states and one cache
round trip.
"""

import hashlib
from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.safestring import mark_safe
from django.views.decorators.http import require_safe

from accounts.models import Account
from transactions.history.filters import DEBIT, HistoryFilter
from transactions.insights import charts, selectors
from transactions.insights.budgets import budget_progress
from transactions.insights.forms import InsightsForm
from transactions.insights.periods import Period

_PAGE = "transactions/insights/insights.html"
FIGURES_SUFFIX = ":figures:v2:"


def history_links(accounts: list[Account], period: Period, slug: str) -> list[tuple[Account, str]]:
    """Each account's history narrowed to money out in this category over the period (its own GET
    parameters: HistoryFilter.as_query, but for the form's single `category` field)."""
    query = HistoryFilter(date_from=period.start, date_to=period.end, direction=DEBIT).as_query()
    query["category"] = slug
    return [(a, f"{reverse('history', args=[a.pk])}?{urlencode(query)}") for a in accounts]


def chart_link(accounts: list[Account], period: Period, slug: str) -> str:
    """Where a click on a category's bar goes: that history, for one account; for several, the category's
    row in the table, which links each account's (a bar does not say which account the money left)."""
    if len(accounts) == 1:
        return history_links(accounts, period, slug)[0][1]
    return f"#spent-{slug}"


@login_required
@require_safe
def insights_page(request: HttpRequest) -> HttpResponse:
    accounts = selectors.insights_accounts(user=request.user)
    form = InsightsForm(request.GET, accounts=accounts)
    context: dict = {"form": form, "accounts": accounts, "found": None}
    if accounts and form.is_valid():
        chosen, period = form.chosen_accounts(), form.chosen_period()
        try:
            key = selectors.insights_key(accounts=chosen, period=period)
        except selectors.InsightsPending as pending:
            return _answer(request, {**context, "pending": pending.accounts})
        context.update(
            found=True,
            figures=_figures(key, chosen, period),
            budgets=budget_progress(user=request.user),
        )
    return _answer(request, context)


def _figures(key: str, chosen: list[Account], period: Period) -> str:
    """The period's figures as HTML (the template's `insights-figures`): read from the cache, else made from
    the insights and their charts (charts.py, cached too) and cached. Keyed by the insights' key (the sums'
    versions and the period) and by the accounts' names, which the history links show."""
    names = "|".join(f"{a.pk}:{a.name}" for a in chosen)
    html_key = f"{key}{FIGURES_SUFFIX}{hashlib.sha256(names.encode()).hexdigest()[:16]}"
    html = cache.get(html_key)
    if html is None:
        found, pieces = charts.insights_with_charts(
            accounts=chosen, period=period, link=lambda slug: chart_link(chosen, period, slug), key=key
        )
        links = {row.slug: history_links(chosen, period, row.slug) for row in pieces.shown.categories}
        html = render_to_string(
            f"{_PAGE}#insights-figures",
            {
                "found": found,
                "charts": pieces.charts,
                "shown": pieces.shown,
                "text": pieces.shown.text,
                "rows": [(row, links[row.slug]) for row in pieces.shown.categories],
                "one_account": chosen[0] if len(chosen) == 1 else None,
            },
        )
        cache.set(html_key, html, selectors.CACHE_SECONDS)
    return mark_safe(html)  # noqa: S308 - our own template's output, escaped when it was rendered


def _answer(request: HttpRequest, context: dict) -> HttpResponse:
    """The page, or for HTMX its results partial (and the address the form's values make)."""
    fragment = bool(request.htmx) and not request.htmx.history_restore_request
    response = render(request, f"{_PAGE}#insights-results" if fragment else _PAGE, context)
    if fragment and request.htmx.trigger != "insights-pending":  # the address bar without the empty fields
        asked = [(name, value) for name, value in request.GET.items() if value.strip()]
        response["HX-Push-Url"] = f"{request.path}?{urlencode(asked)}" if asked else request.path
    patch_vary_headers(response, ["HX-Request"])
    return response
