"""Receipt PDFs (transactions/statements/receipts.py): the transfer receipt page's download, and any
transaction's from its page in an account's history.

Each finds the transaction as its page does (`transfer_get`: a transfer the customer made; the history's
account and transaction: anything on one of their accounts), so another customer's id is a 404 exactly as
the page's is, whatever the method. The file is an attachment, never cached (Cache-Control: no-store), and
each download is audited (`receipt.download`) and counted (`RATE_LIMIT_RECEIPT`, per customer)."""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseNotAllowed

from accounts.models import Account
from portal import ratelimit
from transactions import selectors as transfer_selectors
from transactions.history.selectors import history_account
from transactions.statements import receipts

_METHODS = ("GET", "HEAD")


def _pdf(request: HttpRequest, account: Account, transaction_id: int) -> HttpResponse:
    if request.method not in _METHODS:  # after the ownership check: a 404 says nothing either way
        return HttpResponseNotAllowed(_METHODS)
    # Each is rendered while the customer waits (some 25 ms of a worker): counted per customer.
    if refused := ratelimit.limit_hit(request, "receipt", str(request.user.pk)):
        return refused
    download = receipts.receipt_download(
        user=request.user, account=account, transaction_id=transaction_id, request=request
    )
    if download is None:
        raise Http404("No such transaction on this account.")
    response = HttpResponse(download.pdf, content_type="application/pdf")
    response["Content-Disposition"] = f'attachment; filename="{download.file_name}"'
    response["Cache-Control"] = "no-store"
    return response


@login_required
def transfer_receipt_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The receipt of a transfer the customer made, for the account it was paid from."""
    txn = transfer_selectors.transfer_get(user=request.user, pk=pk)
    if txn is None:
        raise Http404("No such transfer.")
    debit = min(txn.entries.all(), key=lambda entry: entry.amount)
    return _pdf(request, debit.account, txn.pk)


@login_required
def history_receipt_pdf(request: HttpRequest, pk: int, transaction_id: int) -> HttpResponse:
    """The receipt of any transaction on one of the customer's accounts, for that account."""
    account = history_account(user=request.user, account_id=pk)
    if account is None:
        raise Http404("No such account.")
    return _pdf(request, account, transaction_id)
