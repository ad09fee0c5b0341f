"""The history page of one account, the detail of one of its transactions, and the customer's own category
of its entry (`history_category`: a form on the detail; the ledger's category stays, see
transactions/insights/models.py).

The page answers HTMX (a filter changed, a page link followed) with its `history-table` partial and any other
request, a history restore included, with the whole page; both vary on HX-Request, so that no cache hands
one for the other. Nothing here counts or skips the history: a page is one keyset read (selectors.py).
"""

from dataclasses import dataclass
from urllib.parse import urlencode

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils.cache import patch_vary_headers
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.models import Account
from transactions.categories import CATEGORIES
from transactions.history import selectors
from transactions.history.cursor import Cursor, CursorError
from transactions.history.filters import OTHER
from transactions.history.forms import FILTER_FIELDS, read_history_query
from transactions.insights import services as category_services
from transactions.insights.category_forms import BANKS, EntryCategoryForm
from transactions.insights.models import EntryCategory
from transactions.models import Category, Entry, Transaction

_PAGE = "transactions/history.html"
_DETAIL = "transactions/history_detail.html"
_CATEGORY = "transactions/history_category.html"
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


@dataclass(frozen=True)
class CategoryShown:
    """The category a customer sees on their entry and where it came from, in words."""

    slug: str
    name: str
    source: str
    own: bool  # theirs (chosen or by one of their rules), not the bank's


def category_shown(entry: Entry, txn: Transaction) -> CategoryShown:
    """Read from the entry's `customer_category` and the transaction's category, as history_transaction
    selects them (no query)."""
    mine: EntryCategory | None = getattr(entry, "customer_category", None)
    if mine is None or mine.source == EntryCategory.Source.DEFAULT:
        slug = mine.category_id if mine else (txn.category_id or OTHER)
        return CategoryShown(slug, CATEGORIES.get(slug, slug), _("from SecureBank"), own=False)
    if mine.source == EntryCategory.Source.MANUAL:
        source = _("you chose it")
    elif mine.rule is not None:
        source = _("your rule: %(field)s contains “%(text)s”") % {
            "field": mine.rule.get_field_display().lower(),
            "text": mine.rule.contains,
        }
    else:
        source = _("one of your rules (since removed)")
    return CategoryShown(mine.category_id, mine.category.name, source, own=True)


def _transaction_or_404(request: HttpRequest, account: Account, transaction_id: int) -> Transaction:
    txn = selectors.history_transaction(user=request.user, account=account, transaction_id=transaction_id)
    if txn is None:
        raise Http404("No such transaction on this account.")
    return txn


def _entry_on(txn: Transaction, account: Account) -> Entry:
    return next(e for e in txn.own_entries if e.account_id == account.pk)


def _category_context(
    account: Account, txn: Transaction, form: EntryCategoryForm | None = None, saved: str = ""
) -> dict:
    entry = _entry_on(txn, account)
    shown = category_shown(entry, txn)
    if form is None:
        form = EntryCategoryForm(initial={"category": shown.slug if shown.own else BANKS})
    return {
        "account": account,
        "txn": txn,
        "entry": entry,
        "shown": shown,
        "category_form": form,
        "category_url": reverse("history_category", args=[account.pk, txn.pk]),
        "detail_url": reverse("history_detail", args=[account.pk, txn.pk]),
        "category_saved": saved,
    }


@login_required
@require_safe
def history_detail(request: HttpRequest, pk: int, transaction_id: int) -> HttpResponse:
    account = _account_or_404(request, pk)
    txn = _transaction_or_404(request, account, transaction_id)
    own_transfer = txn.initiator_id == request.user.pk and txn.kind in _RECEIPT_KINDS
    context = {
        **_category_context(account, txn),
        "receipt_url": reverse("transfer_detail", args=[txn.pk]) if own_transfer else "",
        "history_url": reverse("history", args=[account.pk]),
        "drawer": _fragment(request),
    }
    response = render(request, f"{_DETAIL}#history-detail" if context["drawer"] else _DETAIL, context)
    patch_vary_headers(response, ["HX-Request"])
    return response


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def history_category(request: HttpRequest, pk: int, transaction_id: int) -> HttpResponse:
    """The customer's own category of their entry on this account. POST: change it, then back to the
    transaction (HTMX: the category's part of it, in place); GET, or a choice that does not read: the form
    on a page of its own, with the message beside it."""
    account = _account_or_404(request, pk)
    txn = _transaction_or_404(request, account, transaction_id)
    form = EntryCategoryForm(request.POST) if request.method == "POST" else None
    if form is not None and form.is_valid():
        try:
            category_services.entry_recategorise(
                user=request.user, entry_id=_entry_on(txn, account).pk, category=form.chosen
            )
        except category_services.CategoryError as error:
            form.add_error("category", error.message)
        else:
            txn = _transaction_or_404(request, account, transaction_id)  # with its new category
            shown = category_shown(_entry_on(txn, account), txn)
            saved = _("Category changed to %(name)s.") % {"name": shown.name}
            if request.htmx:
                context = _category_context(account, txn, saved=saved)
                return render(request, f"{_DETAIL}#entry-category", context)
            messages.success(request, saved)
            response = HttpResponseRedirect(reverse("history_detail", args=[account.pk, txn.pk]))
            response.status_code = 303  # Back and Reload never post it again
            return response
    context = _category_context(account, txn, form)
    response = render(request, f"{_DETAIL}#entry-category" if request.htmx else _CATEGORY, context)
    patch_vary_headers(response, ["HX-Request"])
    return response
