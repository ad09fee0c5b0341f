"""The history page of one account and the detail of one of its transactions.

The page answers HTMX (a filter changed, a page link followed) with its `history-table` partial and any other
request, a history restore included, with the whole page; both vary on HX-Request, so that no cache hands
one for the other. Nothing here counts or skips the history: a page is one keyset read (selectors.py).
"""

from urllib.parse import urlencode

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.views.decorators.http import require_safe

from accounts.models import Account
from transactions.history import selectors
from transactions.history.cursor import Cursor, CursorError
from transactions.history.forms import FILTER_FIELDS, read_history_query
from transactions.models import Category, Transaction

_PAGE = "transactions/history.html"
_DETAIL = "transactions/history_detail.html"
# The customer's own transfers, whose receipt (/transfers/<id>/) the detail links to.
_KIND_LABELS = dict(Transaction.Kind.choices)
_RECEIPT_KINDS = (Transaction.Kind.TRANSFER, Transaction.Kind.PAYEE, Transaction.Kind.OUTWARD)


def _account_or_404(request: HttpRequest, pk: int) -> Account:
    account = selectors.history_account(user=request.user, account_id=pk)
    if account is None:
        raise Http404("No such account.")
    return account


def _fragment(request: HttpRequest) -> bool:
    return bool(request.htmx) and not request.htmx.history_restore_request


def _link(base: str, carry: dict[str, str], cursor: Cursor | None, account_id: int) -> str:
    if cursor is None:
        return ""
    return f"{base}?{urlencode({**carry, 'cursor': cursor.sign(account_id)})}"


@login_required
@require_safe
def history(request: HttpRequest, pk: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    categories = list(Category.objects.values_list("slug", "name"))
    asked = read_history_query(request.GET, categories=categories)
    cursor, cursor_refused = None, False
    if token := request.GET.get("cursor"):
        try:
            cursor = Cursor.load(token, account.pk)
        except CursorError:
            cursor_refused = True
    base = reverse("history", args=[account.pk])
    this_url = f"{base}?{urlencode(asked.carry)}" if asked.carry else base
    # The totals of a filter read every matching entry (the page reads 26): they come in their own request,
    # which the page makes after it is drawn (HTMX), or by the "Show the totals" link without JavaScript.
    totals, totals_too_slow = None, False
    if asked.active and request.GET.get("totals") == "1":
        try:
            totals = selectors.history_totals(account=account, filter=asked.filter)
        except selectors.HistoryTooSlow:
            totals_too_slow = True
        if _fragment(request):
            context = {"asked": asked, "totals": totals, "totals_too_slow": totals_too_slow}
            response = render(request, f"{_PAGE}#history-totals", context)
            patch_vary_headers(response, ["HX-Request"])
            return response
    page = selectors.history_page(account=account, filter=asked.filter, cursor=cursor, size=asked.size)
    for entry in page.rows:
        entry.kind_label = _KIND_LABELS.get(entry.txn_kind, entry.txn_kind)
    context = {
        "account": account,
        "asked": asked,
        "form": asked.form,
        "rows": page.rows,
        "totals": totals,
        # The filter form's fields in use (the panel stays open and says so, a search beside them or not).
        "filters_on": sum(1 for name in FILTER_FIELDS if asked.carry.get(name)),
        "totals_too_slow": totals_too_slow,
        "totals_url": f"{this_url}{'&' if asked.carry else '?'}totals=1",
        "cursor_refused": cursor_refused,
        "first_page": cursor is None,
        "newer_url": _link(base, asked.carry, page.newer, account.pk),
        "older_url": _link(base, asked.carry, page.older, account.pk),
        "this_url": this_url,
        "query": urlencode(asked.carry),  # for the export links (see the template)
    }
    fragment = _fragment(request)
    response = render(request, f"{_PAGE}#history-table" if fragment else _PAGE, context)
    if fragment:  # the address bar without the form's empty fields (what was typed stays, read or not)
        asked_for = [
            (name, value) for name, value in request.GET.items() if value.strip() and name != "totals"
        ]
        response["HX-Push-Url"] = f"{base}?{urlencode(asked_for)}" if asked_for else base
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_safe
def history_detail(request: HttpRequest, pk: int, transaction_id: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    txn = selectors.history_transaction(user=request.user, account=account, transaction_id=transaction_id)
    if txn is None:
        raise Http404("No such transaction on this account.")
    own_transfer = txn.initiator_id == request.user.pk and txn.kind in _RECEIPT_KINDS
    context = {
        "account": account,
        "txn": txn,
        "entry": next(e for e in txn.own_entries if e.account_id == account.pk),
        "receipt_url": reverse("transfer_detail", args=[txn.pk]) if own_transfer else "",
        "history_url": reverse("history", args=[account.pk]),
        "drawer": _fragment(request),
    }
    response = render(request, f"{_DETAIL}#history-detail" if context["drawer"] else _DETAIL, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
